#include "serving/live_monitor.h"

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cassert>
#include <cmath>
#include <filesystem>

#include "core/clock.h"
#include "core/file.h"
#include "core/unique_fd.h"
#include "http/client.h"
#include "monitor/prediction_log.h"
#include "table/value_parse.h"

namespace plinth::serving {
namespace {

constexpr int64_t kBlockRows = 4096;
constexpr size_t kMaxRememberedLabels = 1'000'000;
constexpr size_t kMaxOutbox = 1000;
constexpr int64_t kMaxAlertHistoryBytes = 64 << 20;      // its tail is read back at start
constexpr int64_t kMaxWindowBytes = int64_t{256} << 20;  // whatever window.rows says
constexpr size_t kMaxLabelBytes = 1024;

std::string FeedbackKey(std::string_view id, int64_t row) { return monitor::FeedbackKey(id, row); }

// "http://host:port" and "/path?query" of a URL.
std::pair<std::string, std::string> SplitUrl(const std::string& url) {
  const size_t scheme = url.find("://");
  const size_t path = url.find('/', scheme == std::string::npos ? 0 : scheme + 3);
  if (path == std::string::npos) {
    return {url, "/"};
  }
  return {url.substr(0, path), url.substr(path)};
}

}  // namespace

LiveMonitor::LiveMonitor(Setup setup) : setup_(std::move(setup)) {}

Result<std::unique_ptr<LiveMonitor>> LiveMonitor::Start(Setup setup) {
  std::unique_ptr<LiveMonitor> m(new LiveMonitor(std::move(setup)));
  const ml::Predictor& model = *m->setup_.model;
  monitor::ReportOptions& o = m->options_;
  o.rules = m->setup_.config.drift;
  o.target = model.meta().target_name;
  for (const table::Field& f : model.input_schema().fields()) {
    o.features.push_back(f.name);
  }
  if (model.task() != ml::Task::kRegression) {
    o.class_labels = model.class_labels();
  }
  o.overall = false;
  for (const std::string& name : o.features) {
    if (m->setup_.reference.ColumnByName(name) == nullptr) {
      return InvalidArgument("the reference set has no column '" + name + "' of the model");
    }
  }
  // The reference's side of the statistics, made once.
  PLINTH_ASSIGN_OR_RETURN(
      m->perf_, monitor::PreparePerformance(m->setup_.reference, o.class_labels, o.target));
  Result<monitor::ReconstructionModel> pca =
      monitor::ReconstructionModel::Fit(m->setup_.reference, o.features);
  if (pca.ok()) {
    m->pca_ = std::move(*pca);
  }
  if (model.meta().trained) {
    const core::Json& test = model.meta().trained->metrics.value("test", core::Json());
    if (test.is_object() && test.value("accuracy", core::Json()).is_number()) {
      m->test_accuracy_ = test["accuracy"].get<double>();
    }
  }
  m->started_us_ = core::SystemClock().NowMicros();
  m->LoadAlertStates();
  m->thread_ = std::thread([p = m.get()] { p->Run(); });
  m->notifier_ = std::thread([p = m.get()] { p->Notify(); });
  return m;
}

LiveMonitor::~LiveMonitor() {
  {
    std::lock_guard<std::mutex> lock(wake_mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) {
    thread_.join();
  }
  {
    std::lock_guard<std::mutex> lock(notify_mu_);
    notify_stopping_ = true;
  }
  notify_wake_.notify_all();
  if (notifier_.joinable()) {
    notifier_.join();
  }
}

size_t LiveMonitor::BlockBytes() const {
  return static_cast<size_t>(kBlockRows) * 8 * (setup_.model->input_schema().fields().size() + 1);
}

std::shared_ptr<LiveMonitor::Block> LiveMonitor::NewBlock() {
  if (!spare_.empty()) {
    std::shared_ptr<Block> block = std::move(spare_.back());
    spare_.pop_back();
    block->data.clear();  // the capacity stays
    block->classes.clear();
    block->proba.clear();
    block->values.clear();
    block->requests.clear();
    block->ids.clear();
    block->rows = 0;
    block->bytes = 0;
    return block;
  }
  auto block = std::make_shared<Block>();
  const ml::Predictor& model = *setup_.model;
  block->data.reserve(BlockBytes());
  if (model.task() == ml::Task::kRegression) {
    block->values.reserve(static_cast<size_t>(kBlockRows));
  } else {
    block->classes.reserve(static_cast<size_t>(kBlockRows));
    block->proba.reserve(static_cast<size_t>(kBlockRows) * model.class_labels().size());
  }
  block->requests.reserve(256);
  return block;
}

void LiveMonitor::Seal() {
  if (current_ && (current_->rows > 0 || !current_->requests.empty())) {
    // A block sealed by a recomputation before it filled (a quiet server, a short interval)
    // gives back what it reserved: a window of an hour recomputed every second would keep
    // thousands of reservations.
    if (current_->rows < kBlockRows / 2) {
      current_->data.shrink_to_fit();
      current_->ids.shrink_to_fit();
      current_->requests.shrink_to_fit();
      current_->classes.shrink_to_fit();
      current_->proba.shrink_to_fit();
      current_->values.shrink_to_fit();
    }
    sealed_.push_back(std::move(current_));
  }
  current_ = nullptr;
}

void LiveMonitor::Observe(std::string_view request_id, int64_t time_us, double latency_ms,
                          const table::Table& rows, const ml::Prediction& prediction) {
  const std::vector<table::Field>& fields = setup_.model->input_schema().fields();
  const int64_t n = rows.num_rows();
  // The request's columns in the model's order, looked up before the lock is taken.
  std::array<const table::Column*, 256> from_small{};
  std::vector<const table::Column*> from_large;
  const table::Column** from = from_small.data();
  if (fields.size() > from_small.size()) {
    from_large.resize(fields.size());
    from = from_large.data();
  }
  // Bodies read by the server have the model's columns in its order: looked up by place
  // first, by name only when that is another column.
  const std::vector<table::Field>& given = rows.schema().fields();
  for (size_t j = 0; j < fields.size(); ++j) {
    const table::Column* c = j < given.size() && given[j].name == fields[j].name
                                 ? &rows.column(j)
                                 : rows.ColumnByName(fields[j].name);
    from[j] = c != nullptr && c->type() == fields[j].type ? c : nullptr;
  }
  core::MutexLock lock(mu_);
  if (current_ && current_->rows + n > kBlockRows) {
    Seal();
  }
  if (!current_) {
    current_ = NewBlock();  // once per kBlockRows rows
  }
  Block& b = *current_;
  Request r;
  r.time_us = time_us;
  r.latency_ms = latency_ms;
  r.first_row = b.rows;
  r.rows = n;
  r.id_offset = static_cast<uint32_t>(b.ids.size());
  r.id_size = static_cast<uint32_t>(request_id.size());
  r.data = b.data.size();
  b.ids.append(request_id);
  b.requests.push_back(r);
  int64_t missing = 0;  // columns the request did not have: a byte here, 8 per row later
  for (size_t j = 0; j < fields.size(); ++j) {
    if (from[j] != nullptr) {
      from[j]->EncodeTo(b.data);
    } else {
      table::Column::EncodeNulls(b.data);
      ++missing;
    }
  }
  if (prediction.task == ml::Task::kRegression) {
    b.values.insert(b.values.end(), prediction.values.begin(), prediction.values.end());
  } else {
    b.classes.insert(b.classes.end(), prediction.classes.begin(), prediction.classes.end());
    b.proba.insert(b.proba.end(), prediction.proba.begin(), prediction.proba.end());
  }
  const int64_t bytes = static_cast<int64_t>(b.data.size() - r.data) + n * (16 + 8 * missing) + 64;
  b.rows += n;
  b.bytes += bytes;
  window_rows_ += n;
  window_bytes_ += bytes;
  ++window_requests_;
  // The newest rows only: whole blocks of the oldest go once the window holds more rows
  // than window.rows, or more than kMaxWindowBytes (long strings).
  while (!sealed_.empty() && (window_rows_ - sealed_.front()->rows >= setup_.config.window_rows ||
                              window_bytes_ > kMaxWindowBytes)) {
    DropOldest();
  }
}

void LiveMonitor::DropOldest() {
  std::shared_ptr<const Block>& front = sealed_.front();
  window_rows_ -= front->rows;
  window_bytes_ -= front->bytes;
  window_requests_ -= static_cast<int64_t>(front->requests.size());
  // Reused when no window being computed still holds it, and it is not huge (one large
  // request makes a block of its size).
  if (front.use_count() == 1 && spare_.size() < 4 && front->rows <= 2 * kBlockRows &&
      front->data.capacity() <= 2 * BlockBytes()) {
    spare_.push_back(std::const_pointer_cast<Block>(std::move(front)));
  }
  sealed_.pop_front();
  trimmed_ = true;
}

void LiveMonitor::ObserveFailure(int64_t time_us, double latency_ms) {
  core::MutexLock lock(mu_);
  if (!current_) {
    current_ = NewBlock();
  }
  Request r;
  r.time_us = time_us;
  r.latency_ms = latency_ms;
  r.first_row = current_->rows;
  r.failed = true;
  current_->requests.push_back(r);
  ++window_requests_;
  // A flood of errors: the window stays bounded in requests too.
  while (!sealed_.empty() &&
         window_requests_ - static_cast<int64_t>(sealed_.front()->requests.size()) >=
             2 * setup_.config.window_rows) {
    DropOldest();
  }
  if (static_cast<int64_t>(current_->requests.size()) >= kBlockRows) {
    Seal();
  }
}

void LiveMonitor::Feedback(const std::vector<FeedbackRecord>& records) {
  core::MutexLock lock(labels_mu_);
  for (const FeedbackRecord& r : records) {
    if (r.label.size() > kMaxLabelBytes) {
      continue;  // no class label or number is that long
    }
    std::string key = FeedbackKey(r.request_id, r.row);
    auto [it, fresh] = labels_.insert_or_assign(key, r.label);
    if (fresh) {
      label_order_.push_back(std::move(key));
    }
    while (label_order_.size() > kMaxRememberedLabels) {
      labels_.erase(label_order_.front());
      label_order_.pop_front();
    }
  }
}

table::Table LiveMonitor::WindowTable(const std::vector<std::shared_ptr<const Block>>& blocks,
                                      size_t first) {
  const ml::Predictor& model = *setup_.model;
  const std::vector<table::Field>& fields = model.input_schema().fields();
  int64_t n = 0;
  for (size_t k = 0; k < blocks.size(); ++k) {
    for (size_t q = k == 0 ? first : 0; q < blocks[k]->requests.size(); ++q) {
      n += blocks[k]->requests[q].rows;
    }
  }
  std::vector<table::Field> out_fields(fields.begin(), fields.end());
  std::vector<table::Column> spare = std::move(spare_columns_);
  // The next column: the last window's in the same place, emptied, when its type fits.
  auto column = [&spare, n](size_t at, table::DataType type) {
    table::Column c(type);
    if (at < spare.size() && spare[at].type() == type) {
      c = std::move(spare[at]);
      c.Truncate(0);
    }
    c.Reserve(n);
    return c;
  };
  std::vector<table::Column> cols;
  for (const table::Field& f : fields) {
    cols.push_back(column(cols.size(), f.type));
  }
  for (size_t k = 0; k < blocks.size(); ++k) {
    const Block& b = *blocks[k];
    const char* end = b.data.data() + b.data.size();
    for (size_t q = k == 0 ? first : 0; q < b.requests.size(); ++q) {
      const Request& r = b.requests[q];
      const char* p = b.data.data() + r.data;
      for (size_t j = 0; j < fields.size() && !r.failed; ++j) {
        p = cols[j].AppendEncoded(p, end, r.rows);
        if (p == nullptr) {  // written by Observe, read back as written: never
          assert(false);
          if (setup_.log) {
            setup_.log("monitor: the window's rows could not be read back (a bug); skipped");
          }
          return table::Table();
        }
      }
    }
  }
  // The outputs, as plinth predict names them, and the labels that came on /feedback.
  const bool regression = model.task() == ml::Task::kRegression;
  const auto& labels = model.class_labels();
  const size_t k_classes = regression ? 0 : labels.size();
  const table::DataType out_type =
      regression ? table::DataType::kFloat64 : table::DataType::kString;
  table::Column prediction = column(fields.size(), out_type);
  std::vector<table::Column> proba;
  for (size_t c = 0; c < k_classes; ++c) {
    proba.push_back(column(fields.size() + 1 + c, table::DataType::kFloat64));
  }
  table::Column truth = column(fields.size() + 1 + k_classes, out_type);
  for (size_t k = 0; k < blocks.size(); ++k) {
    const Block& b = *blocks[k];
    // Not the window's lock (scoring requests never wait for it), and taken a block at a
    // time: a /feedback request waits for one block's lookups, not the whole window's (so a
    // label that comes meanwhile may be seen for later blocks only: the next window has it).
    core::MutexLock lock(labels_mu_);
    for (size_t q = k == 0 ? first : 0; q < b.requests.size(); ++q) {
      const Request& r = b.requests[q];
      for (int64_t i = 0; i < r.rows; ++i) {
        const auto row = static_cast<size_t>(r.first_row + i);
        if (regression) {
          prediction.AppendDouble(b.values[row]);
        } else {
          prediction.AppendString(labels[static_cast<size_t>(b.classes[row])]);
          for (size_t c = 0; c < k_classes; ++c) {
            proba[c].AppendDouble(b.proba[row * k_classes + c]);
          }
        }
        auto label = labels_.empty() ? labels_.end() : labels_.find(FeedbackKey(b.Id(r), i));
        double v = 0;
        if (label == labels_.end()) {
          truth.AppendNull();
        } else if (!regression) {
          truth.AppendString(label->second);
        } else if (table::ParseFloat64(label->second, v)) {
          truth.AppendDouble(v);
        } else {
          truth.AppendNull();
        }
      }
    }
  }
  out_fields.push_back({"prediction", prediction.type()});
  cols.push_back(std::move(prediction));
  for (size_t c = 0; c < k_classes; ++c) {
    out_fields.push_back({"probability_" + labels[c], table::DataType::kFloat64});
    cols.push_back(std::move(proba[c]));
  }
  if (!model.meta().target_name.empty()) {
    out_fields.push_back({model.meta().target_name, truth.type()});
    cols.push_back(std::move(truth));
  }
  return table::Table(table::Schema(std::move(out_fields)), std::move(cols));
}

void LiveMonitor::Recompute() {
  core::MutexLock running(run_mu_);
  const int64_t started = core::SystemClock().MonotonicMicros();
  const int64_t now = core::SystemClock().NowMicros();
  const int64_t cutoff = now - setup_.config.window_us;
  std::vector<std::shared_ptr<const Block>> blocks;
  bool trimmed = false;
  {
    core::MutexLock lock(mu_);
    Seal();  // the requests so far, shared as they are
    while (!sealed_.empty() && sealed_.front()->requests.back().time_us < cutoff) {
      DropOldest();
      trimmed_ = false;  // gone for their age: the window's start is the cutoff
    }
    blocks.assign(sealed_.begin(), sealed_.end());
    trimmed = trimmed_;
  }
  auto snap = std::make_shared<Snapshot>();
  snap->at_us = now;
  monitor::WindowReport& win = snap->window;
  win.start_us = std::max(cutoff, started_us_);
  win.end_us = now;
  // The first request kept: in time, and the newest window.rows rows.
  size_t first = 0;
  if (!blocks.empty()) {
    int64_t rows = 0;
    for (const auto& b : blocks) {
      rows += b->rows;
    }
    const Block& oldest = *blocks.front();
    while (first < oldest.requests.size() &&
           (oldest.requests[first].time_us < cutoff ||
            rows - oldest.requests[first].rows >= setup_.config.window_rows)) {
      trimmed = trimmed || oldest.requests[first].time_us >= cutoff;
      rows -= oldest.requests[first].rows;
      ++first;
    }
    // Rows gone for the caps: the window starts at its oldest request, so that rows per
    // second counts the time its rows came in.
    if (trimmed && first < oldest.requests.size()) {
      win.start_us = std::max(win.start_us, oldest.requests[first].time_us);
    }
  }
  std::vector<double> latencies;
  for (size_t k = 0; k < blocks.size(); ++k) {
    for (size_t q = k == 0 ? first : 0; q < blocks[k]->requests.size(); ++q) {
      const Request& r = blocks[k]->requests[q];
      if (r.failed) {
        ++win.failed;
      } else {
        ++win.requests;
        latencies.push_back(r.latency_ms);
      }
    }
  }
  table::Table rows = win.requests == 0 ? table::Table() : WindowTable(blocks, first);
  const std::vector<std::string> columns =
      monitor::ComparedColumns(setup_.reference, rows, options_);
  Status s = monitor::FillWindow(setup_.reference, rows, latencies, columns, options_, perf_,
                                 pca_ ? &*pca_ : nullptr, win);
  spare_columns_ = std::move(rows).TakeColumns();
  if (!s.ok() && setup_.log) {
    setup_.log("monitor: " + s.message());
  }
  snap->json = monitor::WindowToJson(win);
  snap->json["computed"] = core::FormatIsoMicros(now);
  snap->duration_s = static_cast<double>(core::SystemClock().MonotonicMicros() - started) / 1e6;
  snap->json["duration_seconds"] = snap->duration_s;
  // The values the alert rules watch.
  std::map<std::string, double>& v = snap->values;
  if (win.requests + win.failed > 0) {  // an empty window (idle, just restarted) has no values
    v["window_rows"] = static_cast<double>(win.rows);
    v["rows_per_second"] = win.rows_per_second;
    v["error_rate"] = win.error_rate;
  }
  for (const auto& [key, q] :
       {std::pair{"latency_p50_ms", win.latency_p50}, std::pair{"latency_p90_ms", win.latency_p90},
        std::pair{"latency_p99_ms", win.latency_p99}}) {
    if (q) {
      v[key] = *q;
    }
  }
  if (win.drift && win.drift->compared > 0) {
    v["dataset_drift_share"] = win.drift->share;
  }
  if (win.drift && win.drift->prediction_score) {
    v["prediction_drift_score"] = *win.drift->prediction_score;
  }
  if (win.multivariate.is_object() && win.multivariate.contains("error")) {
    v["multivariate_drift_error"] = win.multivariate["error"].get<double>();
  }
  std::optional<double> accuracy;
  if (win.performance && win.performance->realized) {
    v["accuracy"] = win.performance->realized->accuracy;
    accuracy = win.performance->realized->accuracy;
  }
  if (win.performance && win.performance->estimated) {
    v["estimated_accuracy"] = win.performance->estimated->accuracy;
    accuracy = accuracy.value_or(win.performance->estimated->accuracy);
  }
  if (accuracy && test_accuracy_ && *test_accuracy_ > 0) {
    v["accuracy_drop"] = (*test_accuracy_ - *accuracy) / *test_accuracy_;
  }
  std::vector<monitor::AlertEvent> events;
  {
    core::MutexLock lock(snap_mu_);
    events = monitor::EvaluateAlerts(setup_.config.alerts, v, now, states_);
    core::Json alerts = core::Json::array();
    for (const monitor::AlertRule& rule : setup_.config.alerts) {
      const monitor::AlertState& st = states_[rule.name];
      alerts.push_back({{"alert", rule.name},
                        {"rule", rule.Describe()},
                        {"severity", rule.severity},
                        {"state", st.phase == monitor::AlertState::kFiring    ? "firing"
                                  : st.phase == monitor::AlertState::kPending ? "pending"
                                                                              : "inactive"},
                        {"value", v.count(rule.metric) ? core::Json(v[rule.metric]) : nullptr}});
    }
    snap->json["alerts"] = std::move(alerts);
    snap->json["model"] = {{"name", setup_.subject.model},
                           {"version", setup_.subject.model_version},
                           {"training_data_sha256", setup_.subject.data_sha256}};
    snapshot_ = snap;
  }
  Record(events);
}

void LiveMonitor::Record(const std::vector<monitor::AlertEvent>& events) {
  if (events.empty()) {
    return;
  }
  std::string lines;
  for (const monitor::AlertEvent& e : events) {
    for (const monitor::AlertRule& rule : setup_.config.alerts) {
      if (rule.name == e.rule) {
        lines += core::DumpJson(monitor::AlertEventToJson(e, rule, setup_.subject), false) + "\n";
        if (setup_.log) {
          setup_.log("alert " + e.rule + " " + (e.firing ? "FIRING" : "resolved") + ": " +
                     rule.Describe() + " (value " + std::to_string(e.value) + ")");
        }
      }
    }
  }
  if (!setup_.alerts_path.empty()) {
    // Appended and synced: the states a restart reads back.
    // Never a FIFO or a device (O_NONBLOCK: opening one does not wait), never a symlink.
    std::error_code ec;
    const auto kind = std::filesystem::symlink_status(setup_.alerts_path, ec).type();
    const bool other = !ec && kind != std::filesystem::file_type::not_found &&
                       kind != std::filesystem::file_type::regular;
    core::UniqueFd fd(
        other ? -1
              : ::open(setup_.alerts_path.c_str(),
                       O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0644));
    struct stat st {};
    Status s = other          ? InvalidArgument(setup_.alerts_path + ": not a regular file")
               : fd.get() < 0 ? IoError(core::ErrnoMessage(setup_.alerts_path))
               : ::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)
                   ? InvalidArgument(setup_.alerts_path + ": not a regular file")
                   : core::WriteAll(fd.get(), lines, setup_.alerts_path);
    if (s.ok() && ::fsync(fd.get()) != 0) {
      s = IoError(core::ErrnoMessage(setup_.alerts_path));
    }
    if (!s.ok() && setup_.log) {
      setup_.log("alert history: " + s.message());
    }
  }
  if (setup_.config.webhook) {
    const core::Json payload =
        monitor::AlertmanagerPayload(events, setup_.config.alerts, setup_.subject);
    std::lock_guard<std::mutex> lock(notify_mu_);
    if (outbox_.size() < kMaxOutbox) {
      outbox_.push_back({core::DumpJson(payload, false), events.front().rule});
    } else {
      failed_.fetch_add(1, std::memory_order_relaxed);
    }
    notify_wake_.notify_one();
  }
}

void LiveMonitor::LoadAlertStates() {
  if (setup_.alerts_path.empty()) {
    return;
  }
  std::error_code ec;
  const auto status = std::filesystem::symlink_status(setup_.alerts_path, ec);
  if (ec || !std::filesystem::is_regular_file(status)) {
    return;  // none yet (or not a file: written nowhere, and said so when an alert fires)
  }
  // The tail of a long history: the last state of every rule is near its end.
  const auto size = static_cast<int64_t>(std::filesystem::file_size(setup_.alerts_path, ec));
  core::UniqueFd fd(
      ::open(setup_.alerts_path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK));
  if (ec || fd.get() < 0) {
    return;
  }
  const int64_t from = std::max<int64_t>(0, size - kMaxAlertHistoryBytes);
  std::string text(static_cast<size_t>(size - from), '\0');
  const ssize_t got = ::pread(fd.get(), text.data(), text.size(), from);
  text.resize(got > 0 ? static_cast<size_t>(got) : 0);
  size_t start = 0;
  if (from > 0) {  // a cut first line is not read
    const size_t newline = text.find('\n');
    start = newline == std::string::npos ? text.size() : newline + 1;
  }
  auto text_of = [](const core::Json& j, const char* key) {
    auto it = j.find(key);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  core::MutexLock lock(snap_mu_);
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    end = end == std::string::npos ? text.size() : end;
    Result<core::Json> j =
        core::ParseJson(std::string_view(text).substr(start, end - start), "alert history", 4);
    start = end + 1;
    if (!j.ok() || !j->is_object() || text_of(*j, "alert").empty() ||
        text_of(*j, "model") != setup_.subject.model) {
      continue;
    }
    int64_t since = 0;
    if (!table::ParseTimestamp(text_of(*j, "since"), since)) {
      continue;
    }
    monitor::AlertState& st = states_[text_of(*j, "alert")];
    if (text_of(*j, "status") == "firing") {
      st.phase = monitor::AlertState::kFiring;
      st.fired_us = since;
      st.active_since_us = since;
    } else {
      st = monitor::AlertState();
    }
  }
}

void LiveMonitor::Run() {
  // Nice 10: while the cores answer requests, the statistics (and the threads they start,
  // which inherit it) take about a tenth of the time the scoring threads get.
  (void)::setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), 10);
  std::unique_lock<std::mutex> lock(wake_mu_);
  while (!stopping_) {
    wake_.wait_for(lock, std::chrono::microseconds(setup_.config.interval_us),
                   [this] { return stopping_; });
    if (stopping_) {
      break;
    }
    lock.unlock();
    Recompute();
    lock.lock();
  }
}

void LiveMonitor::Notify() {
  const monitor::WebhookConfig web = setup_.config.webhook.value_or(monitor::WebhookConfig());
  const auto [base, path] = SplitUrl(web.url);
  for (;;) {
    Notification n;
    {
      std::unique_lock<std::mutex> lock(notify_mu_);
      notify_wake_.wait(lock, [this] { return notify_stopping_ || !outbox_.empty(); });
      if (notify_stopping_) {
        // Shutting down: what is queued is not sent (a receiver that hangs would hold the
        // exit for a timeout per alert); the history in alerts.jsonl has it.
        failed_.fetch_add(outbox_.size(), std::memory_order_relaxed);
        outbox_.clear();
        return;
      }
      n = std::move(outbox_.front());
      outbox_.pop_front();
    }
    // One try and `retries` more, 1 s, 2 s, 4 s ... apart; a 2xx is delivered.
    std::string last;
    bool delivered = false;
    for (int attempt = 0; attempt <= web.retries && !delivered; ++attempt) {
      if (attempt > 0) {
        std::unique_lock<std::mutex> lock(notify_mu_);
        if (notify_wake_.wait_for(lock, std::chrono::seconds(1 << std::min(attempt - 1, 5)),
                                  [this] { return notify_stopping_; })) {
          break;
        }
      }
      http::Client client(base, web.timeout_seconds);
      Result<http::ClientResponse> r = client.Send("POST", path, n.body, "application/json");
      if (r.ok() && r->status >= 200 && r->status < 300) {
        delivered = true;
      } else {
        last = r.ok() ? "HTTP " + std::to_string(r->status) : r.status().message();
      }
    }
    if (delivered) {
      sent_.fetch_add(1, std::memory_order_relaxed);
    } else {
      failed_.fetch_add(1, std::memory_order_relaxed);
      if (setup_.log) {
        setup_.log("alert webhook " + web.url + ": not delivered after " +
                   std::to_string(web.retries + 1) + " tries (" + last + ")");
      }
    }
  }
}

void LiveMonitor::RenderMetrics(http::PrometheusWriter& w) const {
  std::shared_ptr<const Snapshot> snap;
  std::vector<std::pair<const monitor::AlertRule*, monitor::AlertState>> states;
  {
    core::MutexLock lock(snap_mu_);
    snap = snapshot_;
    for (const monitor::AlertRule& rule : setup_.config.alerts) {
      auto it = states_.find(rule.name);
      states.emplace_back(&rule, it == states_.end() ? monitor::AlertState() : it->second);
    }
  }
  w.Family("plinth_alert_notifications_total", "counter",
           "Alert webhook deliveries: sent, or failed after the retries.")
      .Sample("plinth_alert_notifications_total", {{"result", "sent"}},
              sent_.load(std::memory_order_relaxed))
      .Sample("plinth_alert_notifications_total", {{"result", "failed"}},
              failed_.load(std::memory_order_relaxed));
  w.Family("plinth_alerts", "gauge", "Alert rules pending or firing (1), by rule and state.");
  for (const auto& [rule, st] : states) {
    if (st.phase != monitor::AlertState::kInactive) {
      w.Sample("plinth_alerts",
               {{"alertname", rule->name},
                {"severity", rule->severity},
                {"state", st.phase == monitor::AlertState::kFiring ? "firing" : "pending"}},
               uint64_t{1});
    }
  }
  if (!snap) {
    return;
  }
  const monitor::WindowReport& win = snap->window;
  w.Family("plinth_monitor_window_rows", "gauge", "Rows in the monitoring window.")
      .Sample("plinth_monitor_window_rows", {}, static_cast<uint64_t>(win.rows));
  w.Family("plinth_monitor_last_run_timestamp_seconds", "gauge",
           "When the window was last recomputed.")
      .Sample("plinth_monitor_last_run_timestamp_seconds", {},
              static_cast<double>(snap->at_us) / 1e6);
  w.Family("plinth_monitor_last_run_duration_seconds", "gauge",
           "How long the last recomputation took (wall time, at nice 10).")
      .Sample("plinth_monitor_last_run_duration_seconds", {}, snap->duration_s);
  w.Family("plinth_monitor_latency_ms", "gauge", "Latency quantiles over the window (ms).");
  for (const auto& [q, value] :
       {std::pair{"0.5", win.latency_p50}, std::pair{"0.9", win.latency_p90},
        std::pair{"0.99", win.latency_p99}}) {
    if (value) {
      w.Sample("plinth_monitor_latency_ms", {{"quantile", q}}, *value);
    }
  }
  w.Family("plinth_monitor_error_rate", "gauge", "Error answers / requests over the window.")
      .Sample("plinth_monitor_error_rate", {}, win.error_rate);
  if (win.drift) {
    const monitor::DriftReport& d = *win.drift;
    w.Family("plinth_drift_score", "gauge",
             "Each column's drift score over the window (p-value or distance, by method).");
    for (const monitor::ColumnReport& c : d.columns) {
      if (c.skipped.empty()) {
        w.Sample("plinth_drift_score",
                 {{"feature", c.name}, {"method", monitor::MethodName(c.drift.method)}},
                 c.drift.score);
      }
    }
    w.Family("plinth_drift_detected", "gauge", "1 when the column drifts.");
    for (const monitor::ColumnReport& c : d.columns) {
      if (c.skipped.empty()) {
        w.Sample("plinth_drift_detected", {{"feature", c.name}},
                 uint64_t{c.drift.drifted ? 1u : 0u});
      }
    }
    w.Family("plinth_feature_missing_share", "gauge", "Each column's missing share.");
    for (const monitor::ColumnReport& c : d.columns) {
      if (c.skipped.empty()) {
        const double all = static_cast<double>(c.drift.current_values + c.drift.current_missing);
        w.Sample("plinth_feature_missing_share", {{"feature", c.name}},
                 all > 0 ? static_cast<double>(c.drift.current_missing) / all : 0.0);
      }
    }
    if (d.compared > 0) {
      w.Family("plinth_dataset_drift_share", "gauge", "Share of the features drifting.")
          .Sample("plinth_dataset_drift_share", {}, d.share);
      w.Family("plinth_dataset_drift", "gauge", "1 when the dataset drifts.")
          .Sample("plinth_dataset_drift", {}, uint64_t{d.dataset_drift ? 1u : 0u});
    }
    if (d.prediction_score) {
      w.Family("plinth_prediction_drift_score", "gauge",
               "Drift score of the predictions' distribution.")
          .Sample("plinth_prediction_drift_score", {}, *d.prediction_score);
    }
    if (d.prediction_drift) {
      w.Family("plinth_prediction_drift_detected", "gauge", "1 when the predictions drift.")
          .Sample("plinth_prediction_drift_detected", {}, uint64_t{*d.prediction_drift ? 1u : 0u});
    }
  }
  if (win.multivariate.is_object() && win.multivariate.contains("error")) {
    w.Family("plinth_multivariate_drift_error", "gauge",
             "PCA reconstruction error of the window, and its threshold.")
        .Sample("plinth_multivariate_drift_error", {{"kind", "error"}},
                win.multivariate["error"].get<double>())
        .Sample("plinth_multivariate_drift_error", {{"kind", "threshold"}},
                win.multivariate["threshold"].get<double>());
  }
  if (win.performance && win.performance->estimated) {
    w.Family("plinth_estimated_accuracy", "gauge", "CBPE's estimated accuracy of the window.")
        .Sample("plinth_estimated_accuracy", {}, win.performance->estimated->accuracy);
  }
  if (win.performance && win.performance->realized) {
    w.Family("plinth_window_accuracy", "gauge",
             "Accuracy over the window's rows whose label came on /feedback.")
        .Sample("plinth_window_accuracy", {}, win.performance->realized->accuracy);
  }
}

core::Json LiveMonitor::StatusJson() const {
  core::MutexLock lock(snap_mu_);
  if (!snapshot_) {
    return {{"verdict", "not computed yet"},
            {"interval_seconds", setup_.config.interval_us / 1000000}};
  }
  return snapshot_->json;
}

}  // namespace plinth::serving
