#include "server/webhooks.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <array>
#include <cctype>
#include <charconv>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <random>
#include <thread>

#include "core/hash.h"
#include "core/thread_pool.h"
#include "http/client.h"
#include "server/auth.h"

namespace plinth::server {
namespace {

using core::Json;
using tracking::WebhookEvent;

constexpr std::array<const char*, 9> kEntities = {
    "REGISTERED_MODEL", "MODEL_VERSION", "MODEL_VERSION_TAG",  "MODEL_VERSION_ALIAS", "PROMPT",
    "PROMPT_VERSION",   "PROMPT_TAG",    "PROMPT_VERSION_TAG", "PROMPT_ALIAS"};
constexpr std::array<const char*, 4> kActions = {"CREATED", "UPDATED", "DELETED", "SET"};

// The actions MLflow defines for an entity (VALID_ENTITY_ACTIONS).
std::vector<std::string> ValidActions(const std::string& entity) {
  if (entity == "REGISTERED_MODEL" || entity == "MODEL_VERSION" || entity == "PROMPT" ||
      entity == "PROMPT_VERSION") {
    return {"CREATED"};
  }
  if (entity == "MODEL_VERSION_TAG" || entity == "PROMPT_TAG" || entity == "PROMPT_VERSION_TAG") {
    return {"DELETED", "SET"};
  }
  if (entity == "MODEL_VERSION_ALIAS" || entity == "PROMPT_ALIAS") {
    return {"CREATED", "DELETED"};
  }
  return {};
}

std::string Lower(std::string s) {
  for (char& c : s) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return s;
}

// Python's repr of a str, as MLflow's messages quote values: 'x'.
std::string Repr(const std::string& s) { return "'" + s + "'"; }

// An enum field given by name or by number.
Result<std::string> EnumName(const Json& j, const char* field,
                             const std::array<const char*, 9>* entities,
                             const std::array<const char*, 4>* actions) {
  if (!j.contains(field) || j[field].is_null()) {
    return InvalidArgument(std::string("A webhook event needs '") + field +
                           "' (an event is {\"entity\": ..., \"action\": ...}).");
  }
  const Json& v = j[field];
  size_t n = entities != nullptr ? entities->size() : actions->size();
  auto at = [&](size_t i) { return entities != nullptr ? (*entities)[i] : (*actions)[i]; };
  if (v.is_number_integer()) {
    int64_t x = v.get<int64_t>();
    if (x >= 1 && static_cast<size_t>(x) <= n) {
      return std::string(at(static_cast<size_t>(x) - 1));
    }
  } else if (v.is_string()) {
    for (size_t i = 0; i < n; ++i) {
      if (v.get<std::string>() == at(i)) {
        return std::string(at(i));
      }
    }
  }
  return InvalidArgument(std::string("Invalid webhook event ") + field + ": " + v.dump());
}

// Whether `ip` is routable on the public internet (Python's ipaddress is_global, roughly).
bool IsPublic(const sockaddr* sa) {
  if (sa->sa_family == AF_INET) {
    uint32_t a = ntohl(reinterpret_cast<const sockaddr_in*>(sa)->sin_addr.s_addr);
    auto in = [&](uint32_t net, int bits) {
      return bits == 0 || (a >> (32 - bits)) == (net >> (32 - bits));
    };
    return !(in(0x00000000, 8) || in(0x0A000000, 8) || in(0x64400000, 10) || in(0x7F000000, 8) ||
             in(0xA9FE0000, 16) || in(0xAC100000, 12) || in(0xC0000000, 24) || in(0xC0000200, 24) ||
             in(0xC0A80000, 16) || in(0xC6120000, 15) || in(0xC6336400, 24) || in(0xCB007100, 24) ||
             in(0xE0000000, 4) || in(0xF0000000, 4));
  }
  if (sa->sa_family == AF_INET6) {
    const unsigned char* b = reinterpret_cast<const sockaddr_in6*>(sa)->sin6_addr.s6_addr;
    static constexpr unsigned char kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (std::equal(kMapped, kMapped + 12, b)) {
      sockaddr_in v4{};
      v4.sin_family = AF_INET;
      std::memcpy(&v4.sin_addr, b + 12, 4);
      return IsPublic(reinterpret_cast<const sockaddr*>(&v4));
    }
    if (std::all_of(b, b + 12, [](unsigned char c) { return c == 0; })) {
      return false;  // ::, ::1 and the IPv4-compatible ::a.b.c.d
    }
    static constexpr unsigned char kNat64[12] = {0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0};
    if (std::equal(kNat64, kNat64 + 12, b) || (b[0] == 0x20 && b[1] == 0x02) ||
        (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0)) {
      return false;  // NAT64 64:ff9b::/96, 6to4 2002::/16, site-local fec0::/10
    }
    return !((b[0] & 0xfe) == 0xfc ||                    // fc00::/7 unique local
             (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) ||  // fe80::/10 link local
             b[0] == 0xff ||                             // multicast
             (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8));  // documentation
  }
  return false;
}

std::string AddressText(const sockaddr* sa) {
  std::array<char, INET6_ADDRSTRLEN> buf{};
  const void* src =
      sa->sa_family == AF_INET
          ? static_cast<const void*>(&reinterpret_cast<const sockaddr_in*>(sa)->sin_addr)
          : static_cast<const void*>(&reinterpret_cast<const sockaddr_in6*>(sa)->sin6_addr);
  return ::inet_ntop(sa->sa_family, src, buf.data(), buf.size()) != nullptr ? buf.data() : "";
}

// `url` with any user:password@ replaced by "***@", for messages and logs.
std::string Redacted(const std::string& url) {
  size_t scheme = url.find("://");
  size_t start = scheme == std::string::npos ? 0 : scheme + 3;
  size_t end = url.find_first_of("/?#", start);
  size_t at = url.rfind('@', end == std::string::npos ? url.size() : end);
  if (at == std::string::npos || at < start) {
    return url;
  }
  return url.substr(0, start) + "***" + url.substr(at);
}

// Now as Python's datetime.now(timezone.utc).isoformat().
std::string IsoNow() {
  auto now = std::chrono::system_clock::now();
  auto micros = std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()) %
                std::chrono::seconds(1);
  std::time_t t = std::chrono::system_clock::to_time_t(now);
  std::tm tm{};
  gmtime_r(&t, &tm);
  std::array<char, 64> buf{};
  size_t n = std::strftime(buf.data(), buf.size(), "%Y-%m-%dT%H:%M:%S", &tm);
  std::string out(buf.data(), n);
  if (micros.count() != 0) {
    std::array<char, 16> frac{};
    std::snprintf(frac.data(), frac.size(), ".%06lld", static_cast<long long>(micros.count()));
    out += frac.data();
  }
  return out + "+00:00";
}

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? "" : v;
}

}  // namespace

std::string NewUuid() {
  std::string hex = core::NewUuidHex();
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" +
         hex.substr(16, 4) + "-" + hex.substr(20);
}

WebhookPolicy WebhookPolicy::FromEnvironment() {
  WebhookPolicy p;
  if (std::string schemes = Env("MLFLOW_WEBHOOK_ALLOWED_SCHEMES"); !schemes.empty()) {
    p.allowed_schemes.clear();
    size_t at = 0;
    while (at <= schemes.size()) {
      size_t comma = std::min(schemes.find(',', at), schemes.size());
      std::string s = Lower(schemes.substr(at, comma - at));
      s.erase(0, s.find_first_not_of(" \t"));
      s.erase(s.find_last_not_of(" \t") + 1);
      if (!s.empty()) {
        p.allowed_schemes.push_back(s);
      }
      at = comma + 1;
    }
  }
  std::string priv = Lower(Env("MLFLOW_WEBHOOK_ALLOW_PRIVATE_IPS"));
  p.allow_private_ips = priv == "true" || priv == "1";
  auto number = [](const char* name, int fallback, int low, int high) {
    std::string v = Env(name);
    int x = 0;
    auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), x);
    return !v.empty() && ec == std::errc() && end == v.data() + v.size() && x >= low && x <= high
               ? x
               : fallback;
  };
  p.timeout_seconds = number("MLFLOW_WEBHOOK_REQUEST_TIMEOUT", 30, 1, 3600);
  p.max_retries = number("MLFLOW_WEBHOOK_REQUEST_MAX_RETRIES", 3, 0, 10);
  return p;
}

Status CheckWebhookName(const std::string& name) {
  bool ok = !name.empty() && name.size() <= 63 &&
            std::isalnum(static_cast<unsigned char>(name.front())) &&
            std::isalnum(static_cast<unsigned char>(name.back()));
  for (char c : name) {
    ok = ok &&
         (std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '.' || c == '_' || c == '-');
  }
  if (!ok) {
    return InvalidArgument("Webhook name " + Repr(name) +
                           " is invalid. It must start and end with a letter or digit, be less "
                           "than 63 characters long, and contain only letters, digits, dots (.), "
                           "underscores (_), and hyphens (-).");
  }
  return Status::Ok();
}

Result<WebhookTarget> CheckWebhookUrl(const std::string& url, const WebhookPolicy& policy) {
  if (url.find_first_not_of(" \t\r\n") == std::string::npos) {
    return InvalidArgument("Webhook URL cannot be empty or just whitespace: " + Repr(url));
  }
  // Control characters (a NUL ends the URL libcurl reads), spaces and backslashes are
  // refused outright: the URL checked must be the URL sent.
  for (char c : url) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x21 || u == 0x7f || c == '\\') {
      return InvalidArgument("Invalid webhook URL " + Repr(Redacted(url.substr(0, 100))) +
                             ": control characters, spaces and backslashes are not allowed");
    }
  }
  if (url.size() > 2048) {
    return InvalidArgument("Invalid webhook URL: over 2048 characters");
  }
  size_t colon = url.find("://");
  std::string scheme = colon == std::string::npos ? "" : Lower(url.substr(0, colon));
  if (std::find(policy.allowed_schemes.begin(), policy.allowed_schemes.end(), scheme) ==
          policy.allowed_schemes.end() ||
      (scheme != "http" && scheme != "https")) {
    std::string allowed;
    for (const std::string& s : policy.allowed_schemes) {
      allowed += (allowed.empty() ? "" : ", ") + s;
    }
    return InvalidArgument("Invalid webhook URL scheme: " + Repr(scheme) +
                           ". Allowed schemes are: " + allowed + ".");
  }
  std::string rest = url.substr(colon + 3);
  std::string authority = rest.substr(0, rest.find_first_of("/?#"));
  if (size_t at = authority.rfind('@'); at != std::string::npos) {
    authority = authority.substr(at + 1);
  }
  WebhookTarget target;
  target.port = scheme == "https" ? 443 : 80;
  std::string port_text;
  if (authority.starts_with("[")) {
    size_t close = authority.find(']');
    if (close == std::string::npos) {
      return InvalidArgument("Invalid webhook URL " + Repr(url) +
                             ": ValueError('Invalid IPv6 URL')");
    }
    target.host = authority.substr(1, close - 1);
    if (close + 1 < authority.size()) {
      if (authority[close + 1] != ':') {
        return InvalidArgument("Invalid webhook URL " + Repr(url));
      }
      port_text = authority.substr(close + 2);
    }
  } else {
    size_t c = authority.rfind(':');
    target.host = authority.substr(0, c);
    if (c != std::string::npos) {
      port_text = authority.substr(c + 1);
    }
  }
  if (!port_text.empty()) {
    int port = 0;
    auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (ec != std::errc() || end != port_text.data() + port_text.size() || port < 1 ||
        port > 65535) {
      return InvalidArgument("Invalid webhook URL " + Repr(url) + ": the port is not 1 to 65535");
    }
    target.port = port;
  }
  if (target.host.empty()) {
    return InvalidArgument("Webhook URL must include a hostname: " + Repr(Redacted(url)));
  }
  // A host as libcurl reads it too: ASCII letters, digits, '.', '-' (or an IPv6 literal);
  // no percent-encoding or non-ASCII name that curl would decode into another host.
  const bool literal6 = authority.starts_with("[");
  for (char c : target.host) {
    bool ok = std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '.' || c == '-' ||
              (literal6 && (c == ':'));
    if (!ok) {
      return InvalidArgument("Invalid webhook URL " + Repr(Redacted(url)) +
                             ": the host must be a plain name or address");
    }
  }
  if (policy.allow_private_ips) {
    return target;
  }
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (int rc = ::getaddrinfo(target.host.c_str(), nullptr, &hints, &found); rc != 0) {
    return InvalidArgument("Cannot resolve webhook URL hostname " + Repr(target.host) + ": " +
                           ::gai_strerror(rc));
  }
  std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> owned(found, ::freeaddrinfo);
  for (addrinfo* a = found; a != nullptr; a = a->ai_next) {
    if (!IsPublic(a->ai_addr)) {
      return InvalidArgument("Webhook URL must not resolve to a non-public IP address. " +
                             Repr(target.host) + " resolves to " + AddressText(a->ai_addr) + ".");
    }
    if (target.address.empty()) {
      target.address = AddressText(a->ai_addr);
    }
  }
  in6_addr v6{};
  in_addr v4{};
  if (literal6 || ::inet_pton(AF_INET, target.host.c_str(), &v4) == 1 ||
      ::inet_pton(AF_INET6, target.host.c_str(), &v6) == 1) {
    target.address.clear();  // an address already: nothing to resolve, nothing to pin
  }
  return target;
}

Result<WebhookEvent> ReadWebhookEvent(const Json& j) {
  if (!j.is_object()) {
    return InvalidArgument("A webhook event is an object {\"entity\": ..., \"action\": ...}.");
  }
  PLINTH_ASSIGN_OR_RETURN(std::string entity, EnumName(j, "entity", &kEntities, nullptr));
  PLINTH_ASSIGN_OR_RETURN(std::string action, EnumName(j, "action", nullptr, &kActions));
  std::vector<std::string> valid = ValidActions(entity);
  if (std::find(valid.begin(), valid.end(), action) == valid.end()) {
    std::string list;
    for (const std::string& a : valid) {
      list += (list.empty() ? "" : ", ") + Repr(Lower(a));
    }
    return InvalidArgument("Invalid action " + Repr(Lower(action)) + " for entity " +
                           Repr(Lower(entity)) + ". Valid actions are: [" + list + "]");
  }
  return WebhookEvent{entity, action};
}

Json ExamplePayload(const WebhookEvent& e) {
  bool prompt = e.entity.starts_with("PROMPT");
  std::string name = prompt ? "example_prompt" : "example_model";
  Json tags = {{"example_key", "example_value"}};
  if (e.entity == "REGISTERED_MODEL" || e.entity == "PROMPT") {
    return {{"name", name},
            {"tags", tags},
            {"description", prompt ? "An example prompt" : "An example registered model"}};
  }
  if (e.entity == "MODEL_VERSION") {
    return {{"name", name},
            {"version", "1"},
            {"source", "models:/123"},
            {"run_id", "abcd1234abcd5678"},
            {"tags", tags},
            {"description", "An example model version"}};
  }
  if (e.entity == "PROMPT_VERSION") {
    return {{"name", name},
            {"version", "1"},
            {"template", "Hello {{name}}!"},
            {"tags", tags},
            {"description", "An example prompt version"}};
  }
  if (e.entity.ends_with("ALIAS")) {
    Json j = {{"name", name}, {"alias", "example_alias"}};
    if (e.action == "CREATED") {
      j["version"] = "1";
    }
    return j;
  }
  Json j = {{"name", name}};  // tags
  if (e.entity != "PROMPT_TAG") {
    j["version"] = "1";
  }
  j["key"] = "example_key";
  if (e.action == "SET") {
    j["value"] = "example_value";
  }
  return j;
}

std::string WebhookSignature(const std::string& secret, const std::string& delivery_id,
                             const std::string& timestamp, const std::string& body) {
  return "v1," + core::Base64Encode(HmacSha256(secret, delivery_id + "." + timestamp + "." + body));
}

WebhookSender::WebhookSender(WebhookPolicy policy)
    : policy_(std::move(policy)), pool_(std::make_unique<core::ThreadPool>(4)) {}

WebhookSender::~WebhookSender() {
  stopping_ = true;  // queued deliveries return at once; one under way ends its attempt
  pool_.reset();
}

void WebhookSender::Fire(tracking::Service::Lease& stores, const WebhookEvent& event,
                         const Json& data) {
  Result<tracking::WebhookStore*> store = stores.webhooks();
  Result<std::vector<tracking::Webhook>> hooks =
      store.ok() ? (*store)->Subscribers(event)
                 : Result<std::vector<tracking::Webhook>>(store.status());
  if (!hooks.ok()) {
    spdlog::error("webhooks for {}.{}: {}", event.entity, event.action, hooks.status().ToString());
    return;
  }
  for (tracking::Webhook& hook : *hooks) {
    constexpr int kMaxQueued = 1000;
    if (queued_.fetch_add(1) >= kMaxQueued) {
      queued_.fetch_sub(1);
      spdlog::error("webhook {} ({}): {} deliveries already queued; {}.{} dropped", hook.name,
                    hook.webhook_id, kMaxQueued, Lower(event.entity), Lower(event.action));
      continue;
    }
    (void)pool_->Submit([this, hook = std::move(hook), event, data] {
      queued_.fetch_sub(1);
      Outcome o = Deliver(hook, event, data, policy_.max_retries + 1, policy_.timeout_seconds);
      if (!o.error.empty() || o.status >= 400) {
        spdlog::warn("webhook {} ({}) {}.{}: {}", hook.name, hook.webhook_id, Lower(event.entity),
                     Lower(event.action),
                     o.error.empty() ? "HTTP " + std::to_string(o.status) : o.error);
      }
    });
  }
}

Json WebhookSender::Test(const tracking::Webhook& hook, const WebhookEvent& event) const {
  // A test answers its request, on an I/O thread: one at a time, one attempt of at most
  // 10 s (deliveries retry on the sender threads instead).
  if (testing_.exchange(true)) {
    return {{"success", false},
            {"error_message", "Failed to test webhook: another test is running; retry shortly"}};
  }
  Outcome o = Deliver(hook, event, ExamplePayload(event), /*attempts=*/1,
                      std::min(policy_.timeout_seconds, 10));
  testing_.store(false);
  if (!o.error.empty()) {
    return {{"success", false}, {"error_message", "Failed to test webhook: " + o.error}};
  }
  return {{"success", o.status < 400}, {"response_status", o.status}, {"response_body", o.body}};
}

WebhookSender::Outcome WebhookSender::Deliver(const tracking::Webhook& hook,
                                              const WebhookEvent& event, const Json& data,
                                              int attempts, int timeout_seconds) const {
  Outcome out;
  if (stopping_) {
    out.error = "the server is stopping";
    return out;
  }
  Result<WebhookTarget> target = CheckWebhookUrl(hook.url, policy_);
  if (!target.ok()) {
    out.error = target.status().message();
    return out;
  }
  Json envelope;
  envelope["entity"] = Lower(event.entity);
  envelope["action"] = Lower(event.action);
  envelope["timestamp"] = IsoNow();
  envelope["data"] = data;
  const std::string body = core::DumpJson(envelope, false);
  const std::string delivery_id = NewUuid();
  const std::string timestamp =
      std::to_string(std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count());
  std::vector<std::pair<std::string, std::string>> headers = {{"X-MLflow-Delivery-Id", delivery_id},
                                                              {"X-MLflow-Timestamp", timestamp}};
  if (!hook.secret.empty()) {
    headers.emplace_back("X-MLflow-Signature",
                         WebhookSignature(hook.secret, delivery_id, timestamp, body));
  }
  http::Client client(hook.url, timeout_seconds);
  if (!target->address.empty()) {
    client.Pin(target->host, target->port, target->address);
  }
  std::mt19937 jitter(std::random_device{}());
  double wait = 0;  // before the next attempt
  for (int attempt = 0; attempt < attempts; ++attempt) {
    // Waits in steps, so that a stopping server does not wait for a receiver's backoff.
    for (auto until = std::chrono::steady_clock::now() +
                      std::chrono::milliseconds(static_cast<int64_t>(wait * 1000));
         std::chrono::steady_clock::now() < until && !stopping_;) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    if (stopping_) {
      break;
    }
    // urllib3's backoff for the attempt after this one: 0 s, then 2, 4, ... s (at most
    // 60), each with up to 1 s of jitter; a Retry-After answer replaces it.
    wait = (attempt == 0 ? 0 : std::min(60.0, static_cast<double>(2 << (attempt - 1)))) +
           std::uniform_real_distribution<double>(0, 1)(jitter);
    Result<http::ClientResponse> r = client.Send("POST", "", body, "application/json", headers);
    if (!r.ok()) {  // curl's message names the URL: said again without its credentials
      std::string why = r.status().message();
      std::string prefix = "POST " + hook.url + ": ";
      if (why.starts_with(prefix)) {
        why = why.substr(prefix.size());
      }
      out.error = "POST " + Redacted(hook.url) + ": " + why;
      out.status = 0;
      continue;
    }
    out.error.clear();
    out.status = r->status;
    out.body = r->body;
    if (r->status != 429 && r->status < 500) {
      break;
    }
    int after = 0;
    const std::string& text = r->retry_after;
    if (!text.empty() &&
        std::from_chars(text.data(), text.data() + text.size(), after).ec == std::errc()) {
      wait = std::clamp(after, 0, 60);
    }
  }
  return out;
}

}  // namespace plinth::server
