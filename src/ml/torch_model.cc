// The mlp kind over libtorch: trains a ReLU network with dropout and Adam on
// mini-batches, then keeps the best epoch's weights in a TorchScript module
// (model.pt), which both this code and Python's torch.jit.load run. The
// module maps features to P(class 1) (binary, one column), class
// probabilities (multiclass) or values (regression, in the target's units).
// Only this file includes libtorch; it is built as a plugin
// (libplinth_torch.so) that model.cc loads with dlopen on first use.
#include <torch/script.h>
#include <torch/torch.h>

#include <cmath>
#include <sstream>
#include <string>
#include <vector>

#include "ml/model.h"
#include "ml/monitor.h"

namespace plinth::ml {
namespace {

Status TorchError(std::string_view what, const std::exception& e) {
  std::string msg = e.what();
  size_t nl = msg.find('\n');
  return Internal("torch: " + std::string(what) + ": " + msg.substr(0, nl));
}

torch::Tensor ToTensor(const Matrix& x) {
  return torch::from_blob(const_cast<float*>(x.values.data()), {x.rows, x.cols}, torch::kFloat32)
      .clone();
}

struct Net : torch::nn::Module {
  Net(int64_t in, const std::vector<int64_t>& hidden, int64_t out, double dropout) {
    int64_t width = in;
    for (size_t i = 0; i < hidden.size(); ++i) {
      layers.push_back(
          register_module("fc" + std::to_string(i), torch::nn::Linear(width, hidden[i])));
      width = hidden[i];
    }
    layers.push_back(register_module("out", torch::nn::Linear(width, out)));
    drop = register_module("drop", torch::nn::Dropout(dropout));
  }
  torch::Tensor forward(torch::Tensor x) {
    for (size_t i = 0; i + 1 < layers.size(); ++i) {
      x = drop->forward(torch::relu(layers[i]->forward(x)));
    }
    return layers.back()->forward(x);
  }
  std::vector<torch::nn::Linear> layers;
  torch::nn::Dropout drop{nullptr};
};

class MlpModel : public Model {
 public:
  std::string_view kind() const override { return "mlp"; }

  Result<FitReport> Fit(const Dataset& train, const Dataset& validation,
                        const FitOptions& options) override {
    try {
      return FitImpl(train, validation, options);
    } catch (const std::exception& e) {
      return TorchError("training", e);
    }
  }

  Result<Matrix> Predict(const Matrix& x) const override {
    PLINTH_RETURN_IF_ERROR(CheckPredictInput(module_ != nullptr, num_features_, x));
    const int64_t out_cols = OutputColumns(task_, num_classes_);
    if (x.rows == 0) {
      return Matrix(0, out_cols);
    }
    try {
      c10::InferenceMode guard;
      torch::Tensor in =
          torch::from_blob(const_cast<float*>(x.values.data()), {x.rows, x.cols}, torch::kFloat32);
      torch::Tensor out = module_->forward({in}).toTensor().contiguous().to(torch::kFloat32);
      if (out.numel() != x.rows * out_cols) {
        return InvalidArgument("the TorchScript module returned " + std::to_string(out.numel()) +
                               " values for " + std::to_string(x.rows) + " rows; expected " +
                               std::to_string(out_cols) + " per row");
      }
      Matrix m(x.rows, out_cols);
      std::memcpy(m.values.data(), out.data_ptr<float>(), m.values.size() * sizeof(float));
      return m;
    } catch (const std::exception& e) {
      return TorchError("predicting", e);
    }
  }

  Result<std::string> Serialize() const override {
    if (!module_) {
      return FailedPrecondition("the model is neither fitted nor loaded");
    }
    try {
      std::ostringstream out;
      module_->save(out);
      return out.str();
    } catch (const std::exception& e) {
      return TorchError("saving", e);
    }
  }

  Status Deserialize(std::string_view bytes, Task task, int num_classes,
                     int64_t num_features) override {
    try {
      std::istringstream in{std::string(bytes)};
      module_ = std::make_shared<torch::jit::Module>(torch::jit::load(in));
      module_->eval();
    } catch (const std::exception& e) {
      std::string msg = e.what();
      return InvalidArgument("not a TorchScript module: " + msg.substr(0, msg.find('\n')));
    }
    task_ = task;
    num_classes_ = num_classes;
    num_features_ = num_features;
    return Status::Ok();
  }

 private:
  Result<FitReport> FitImpl(const Dataset& train, const Dataset& validation, const FitOptions& o) {
    PLINTH_ASSIGN_OR_RETURN(Monitor monitor, ResolveMonitor(o.monitor, o.task));
    std::vector<int64_t> hidden = {64, 32};
    double dropout = 0.1;
    double weight_decay = 0;
    try {
      hidden = o.params.value("hidden_layers", hidden);
      dropout = o.params.value("dropout", dropout);
      weight_decay = o.params.value("weight_decay", weight_decay);
    } catch (const std::exception&) {
      return InvalidArgument(
          "model.params: hidden_layers must be a list of integers, dropout and weight_decay "
          "numbers");
    }
    for (const auto& [key, unused] : o.params.items()) {
      if (key != "hidden_layers" && key != "dropout" && key != "weight_decay") {
        return InvalidArgument("model.params: unknown key \"" + key +
                               "\" for mlp; expected hidden_layers, dropout, weight_decay");
      }
    }
    // Checked here, with the key named, rather than by libtorch's own messages.
    for (int64_t width : hidden) {
      if (width < 1 || width > 65536) {
        return InvalidArgument(
            "model.params.hidden_layers: expected layer widths from 1 to "
            "65536, got " +
            std::to_string(width));
      }
    }
    if (!(dropout >= 0 && dropout < 1)) {
      return InvalidArgument("model.params.dropout: expected a probability in [0, 1), got " +
                             std::to_string(dropout));
    }
    if (!(weight_decay >= 0) || !std::isfinite(weight_decay)) {
      return InvalidArgument("model.params.weight_decay: expected a number >= 0, got " +
                             std::to_string(weight_decay));
    }
    torch::manual_seed(o.seed);
    if (o.threads > 0) {
      torch::set_num_threads(o.threads);
    }
    task_ = o.task;
    num_classes_ = o.num_classes;
    num_features_ = train.x->cols;
    const int64_t outputs = o.task == Task::kMulticlass ? o.num_classes : 1;
    auto net = std::make_shared<Net>(num_features_, hidden, outputs, dropout);
    torch::optim::Adam adam(net->parameters(),
                            torch::optim::AdamOptions(o.learning_rate).weight_decay(weight_decay));

    torch::Tensor x = ToTensor(*train.x);
    torch::Tensor y = torch::from_blob(const_cast<float*>(train.y.data()),
                                       {static_cast<int64_t>(train.y.size())}, torch::kFloat32)
                          .clone();
    // Regression trains on the standardized target; the module undoes it.
    if (o.task == Task::kRegression) {
      y_mean_ = y.mean().item<double>();
      double sd = y.std(false).item<double>();
      y_scale_ = sd > 0 ? sd : 1;
      y = (y - y_mean_) / y_scale_;
    }
    torch::Tensor w = train.weights.empty()
                          ? torch::ones({x.size(0)})
                          : torch::from_blob(const_cast<float*>(train.weights.data()), {x.size(0)},
                                             torch::kFloat32)
                                .clone();
    const bool has_valid = validation.x != nullptr && validation.x->rows > 0;
    const int64_t n = x.size(0);
    const int64_t batch = std::max(o.batch_size, 1);

    FitReport report;
    report.metric = monitor.name;
    report.maximize = monitor.maximize;
    report.params = {{"hidden_layers", hidden},
                     {"dropout", dropout},
                     {"weight_decay", weight_decay},
                     {"optimizer", "adam"},
                     {"learning_rate", o.learning_rate},
                     {"batch_size", batch},
                     {"epochs", o.epochs}};
    RoundLog best{-1, 0, 0};
    int since_best = 0;
    for (int epoch = 0; epoch < std::max(o.epochs, 1); ++epoch) {
      net->train();
      torch::Tensor order = torch::randperm(n, torch::kLong);
      for (int64_t start = 0; start < n; start += batch) {
        torch::Tensor idx = order.slice(0, start, std::min(n, start + batch));
        torch::Tensor out = net->forward(x.index_select(0, idx));
        torch::Tensor yb = y.index_select(0, idx);
        torch::Tensor loss;
        if (o.task == Task::kBinary) {
          loss = torch::binary_cross_entropy_with_logits(out.squeeze(1), yb, {}, {},
                                                         at::Reduction::None);
        } else if (o.task == Task::kMulticlass) {
          loss = torch::nn::functional::cross_entropy(
              out, yb.to(torch::kLong),
              torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kNone));
        } else {
          loss = (out.squeeze(1) - yb).pow(2);
        }
        torch::Tensor wb = w.index_select(0, idx);
        loss = (loss * wb).sum() / wb.sum();
        adam.zero_grad();
        loss.backward();
        adam.step();
      }
      BuildModule(*net);
      PLINTH_ASSIGN_OR_RETURN(Matrix train_out, Predict(*train.x));
      RoundLog log{epoch, ComputeMonitor(monitor, o.task, o.num_classes, train.y, train_out), 0};
      Matrix valid_out;
      if (has_valid) {
        PLINTH_ASSIGN_OR_RETURN(valid_out, Predict(*validation.x));
        log.validation = ComputeMonitor(monitor, o.task, o.num_classes, validation.y, valid_out);
      } else {
        log.validation = std::nan("");  // no validation rows: no validation number
      }
      report.history.push_back(log);
      report.rounds = epoch + 1;
      if (best.round < 0 || Improves(monitor, log.validation, best.validation) || !has_valid) {
        best = log;
        since_best = 0;
        best_module_ = module_;
        report.validation_output = std::move(valid_out);
      } else {
        ++since_best;
      }
      if (o.on_round) {
        o.on_round(log, best);
      }
      if (has_valid && o.early_stopping_patience > 0 && since_best >= o.early_stopping_patience) {
        report.stopped_early = true;
        break;
      }
    }
    module_ = best_module_;
    best_module_.reset();
    report.best_round = best.round;
    report.best_validation = best.validation;
    return report;
  }

  // Copies the network's current weights into a fresh TorchScript module.
  void BuildModule(Net& net) {
    auto m = std::make_shared<torch::jit::Module>("PlinthMlp");
    std::ostringstream src;
    src << "def forward(self, x):\n    h = x\n";
    torch::NoGradGuard no_grad;
    for (size_t i = 0; i < net.layers.size(); ++i) {
      std::string wi = "w" + std::to_string(i), bi = "b" + std::to_string(i);
      m->register_parameter(wi, net.layers[i]->weight.detach().clone(), false);
      m->register_parameter(bi, net.layers[i]->bias.detach().clone(), false);
      src << "    h = torch.addmm(self." << bi << ", h, self." << wi << ".t())\n";
      if (i + 1 < net.layers.size()) {
        src << "    h = torch.relu(h)\n";
      }
    }
    switch (task_) {
      case Task::kBinary:
        src << "    return torch.sigmoid(h)\n";
        break;
      case Task::kMulticlass:
        src << "    return torch.softmax(h, 1)\n";
        break;
      case Task::kRegression:
        m->register_buffer("y_mean", torch::tensor(static_cast<float>(y_mean_)));
        m->register_buffer("y_scale", torch::tensor(static_cast<float>(y_scale_)));
        src << "    return h * self.y_scale + self.y_mean\n";
        break;
    }
    m->define(src.str());
    m->eval();
    module_ = std::move(m);
  }

  std::shared_ptr<torch::jit::Module> module_;
  std::shared_ptr<torch::jit::Module> best_module_;
  Task task_ = Task::kBinary;
  int num_classes_ = 2;
  int64_t num_features_ = 0;
  double y_mean_ = 0, y_scale_ = 1;
};

}  // namespace

}  // namespace plinth::ml

// The plugin's only exported symbols (the rest is hidden), found by dlsym.
extern "C" __attribute__((visibility("default"))) plinth::ml::Model* PlinthTorchCreateMlp() {
  return new plinth::ml::MlpModel();
}
extern "C" __attribute__((visibility("default"))) const char* PlinthTorchVersion() {
  return TORCH_VERSION;
}
