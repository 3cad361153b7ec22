#include "http/client.h"

#include <curl/curl.h>

#include <cstdint>
#include <mutex>

namespace plinth::http {
namespace {

// Where an answer's body goes, and how much of it is taken.
struct Sink {
  std::string* body;
  size_t max_bytes;
  bool over = false;
};

size_t Append(char* data, size_t size, size_t n, void* out) {
  auto* sink = static_cast<Sink*>(out);
  if (sink->body->size() + size * n > sink->max_bytes) {
    sink->over = true;
    return 0;  // libcurl stops the transfer: CURLE_WRITE_ERROR
  }
  sink->body->append(data, size * n);
  return size * n;
}

void GlobalInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

}  // namespace

struct Client::Impl {
  CURL* curl = nullptr;
  int timeout_seconds = 60;
  size_t max_response_bytes = SIZE_MAX;
  ~Impl() {
    if (curl != nullptr) {
      curl_easy_cleanup(curl);
    }
  }
};

Client::Client(std::string base_url, int timeout_seconds)
    : base_url_(std::move(base_url)), impl_(std::make_unique<Impl>()) {
  while (!base_url_.empty() && base_url_.back() == '/') {
    base_url_.pop_back();
  }
  GlobalInit();
  impl_->curl = curl_easy_init();
  impl_->timeout_seconds = timeout_seconds;
}

Client::~Client() = default;

void Client::LimitResponse(size_t max_bytes) { impl_->max_response_bytes = max_bytes; }

void Client::Pin(const std::string& host, int port, const std::string& ip) {
  pinned_ = host + ":" + std::to_string(port) + ":" + ip;
}

Result<ClientResponse> Client::Send(
    std::string_view method, std::string_view target, std::string_view body,
    std::string_view content_type,
    const std::vector<std::pair<std::string, std::string>>& headers) {
  CURL* c = impl_->curl;
  if (c == nullptr) {
    return Internal("cannot initialise libcurl");
  }
  curl_easy_reset(c);
  std::string url = base_url_ + std::string(target);
  std::string m(method);
  ClientResponse out;
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, m.c_str());
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT, static_cast<long>(impl_->timeout_seconds));
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_slist* resolve = nullptr;
  if (!pinned_.empty()) {
    resolve = curl_slist_append(resolve, pinned_.c_str());
    curl_easy_setopt(c, CURLOPT_RESOLVE, resolve);
  }
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, Append);
  Sink sink{&out.body, impl_->max_response_bytes};
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
  if (m == "HEAD") {
    curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
  }
  if (!body.empty() || m == "POST" || m == "PUT" || m == "PATCH") {
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  }
  curl_slist* list = nullptr;
  if (!content_type.empty()) {
    list = curl_slist_append(list, ("Content-Type: " + std::string(content_type)).c_str());
  }
  for (const auto& [k, v] : headers) {
    list = curl_slist_append(list, (k + ": " + v).c_str());
  }
  list = curl_slist_append(list, "Expect:");  // no 100-continue round trip
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, list);
  CURLcode rc = curl_easy_perform(c);
  curl_slist_free_all(list);
  curl_slist_free_all(resolve);
  if (sink.over) {
    return Unavailable(m + " " + url + ": the answer is over " +
                       std::to_string(impl_->max_response_bytes) + " bytes");
  }
  if (rc != CURLE_OK) {
    return Unavailable(m + " " + url + ": " + curl_easy_strerror(rc));
  }
  long status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  out.status = static_cast<int>(status);
  char* type = nullptr;
  curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &type);
  out.content_type = type != nullptr ? type : "";
  curl_header* retry = nullptr;
  if (curl_easy_header(c, "Retry-After", 0, CURLH_HEADER, -1, &retry) == CURLHE_OK) {
    out.retry_after = retry->value;
  }
  return out;
}

std::string UrlEncode(std::string_view s, bool keep_slash) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size() * 3);
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' ||
        (keep_slash && c == '/')) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

}  // namespace plinth::http
