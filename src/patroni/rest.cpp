#include "patroni/rest.hpp"

#include "core/patroni_json.hpp"
#include "pglift/errors.hpp"

namespace pglift::patroni {

namespace {
/// TLS from the site settings (no credentials).
net::RequestOptions options_for(const PatroniSettings& s) {
  net::RequestOptions o;
  if (s.restapi.certfile) {
    net::Tls tls;
    tls.cafile = s.restapi.cafile;
    // The API's own certificate doubles as our client certificate when the API verifies clients.
    if (s.restapi.verify_client) {
      tls.certfile = s.restapi.certfile;
      tls.keyfile = s.restapi.keyfile;
    }
    o.tls = tls;
  }
  return o;
}

bool safe_method(const std::string& method) { return method == "GET" || method == "HEAD"; }
}  // namespace

Rest::Rest(const PatroniSettings& settings, const Member& member)
    : endpoint_(net::contact_address(net::Endpoint::parse(member.restapi_connect_address),
                                     member.restapi_listen.empty() ? std::nullopt
                                                                   : std::optional(net::Endpoint::parse(member.restapi_listen)))),
      options_(options_for(settings)),
      own_member_(true),
      member_("member '" + member.node + "' of cluster '" + member.cluster + "'") {
  if (member.restapi_auth) options_.auth = net::BasicAuth{member.restapi_auth->username, member.restapi_auth->password};
  else if (settings.restapi.username) options_.auth = net::BasicAuth{*settings.restapi.username, *settings.restapi.password};
}

Rest Rest::from_api_url(const PatroniSettings& settings, const std::string& api_url) {
  // scheme://host:port/path
  auto start = api_url.find("://");
  std::string rest = start == std::string::npos ? api_url : api_url.substr(start + 3);
  rest = rest.substr(0, rest.find('/'));
  Rest r;
  r.endpoint_ = net::Endpoint::parse(rest);
  r.options_ = options_for(settings);  // no credentials: see the declaration
  if (api_url.starts_with("http://")) r.options_.tls.reset();
  return r;
}

awaitable<std::optional<net::Response>> Rest::get(const std::string& path, std::chrono::milliseconds timeout) const {
  auto o = options_;
  o.timeout = timeout;
  try {
    co_return co_await net::request("GET", endpoint_, path, {}, o);
  } catch (const Timeout&) {
  } catch (const Error& e) {
    if (e.code() == ErrorCode::cancelled) throw;
  }
  co_return std::nullopt;  // unreachable: a value for callers that poll
}

awaitable<int> Rest::probe(const std::string& path, std::chrono::milliseconds timeout) const {
  auto r = co_await get(path, timeout);
  co_return r ? r->status : 0;
}

awaitable<std::optional<core::Value>> Rest::status(std::chrono::milliseconds timeout) const {
  auto r = co_await get("/patroni", timeout);
  // Health endpoints answer 503 with the same JSON body.
  if (r && (r->status == 200 || r->status == 503)) try {
      co_return core::parse_json(r->body);
    } catch (const core::ParseError&) {
    }
  co_return std::nullopt;
}

awaitable<std::optional<core::Value>> Rest::get_json(const std::string& path, std::chrono::milliseconds timeout) const {
  auto r = co_await get(path, timeout);
  if (r && r->status == 200) try {
      co_return core::parse_json(r->body);
    } catch (const core::ParseError&) {
    }
  co_return std::nullopt;
}

ClusterMember parse_member(const core::Value& v) { return core::cluster_member(v); }

std::vector<ClusterMember> parse_cluster(std::string_view body) {
  std::vector<ClusterMember> members;
  try {
    auto doc = core::parse_json(body);
    if (const auto* list = doc.find("members"); list && list->is_array())
      for (const auto& m : list->as_array())
        if (m.is_object()) members.push_back(parse_member(m));
  } catch (const core::ParseError&) {
  }
  return members;
}

awaitable<std::vector<ClusterMember>> Rest::cluster(std::chrono::milliseconds timeout) const {
  auto r = co_await get("/cluster", timeout);
  if (!r || r->status != 200) co_return std::vector<ClusterMember>{};
  co_return parse_cluster(r->body);
}

awaitable<net::Response> Rest::call(const std::string& method, const std::string& path, const core::Value& body,
                                    std::chrono::milliseconds timeout) const {
  if (!own_member_ && !safe_method(method))
    throw StateError("refusing to send " + method + " " + path + " to " + url() +
                     ", an address read from the DCS: unsafe requests go to this host's own member");
  auto o = options_;
  o.timeout = timeout;
  // A local, not a conditional in the co_await expression: g++ 12 destroys such temporaries twice.
  std::string text;
  if (!body.is_null()) text = core::to_json(body);
  // An API that accepts and never answers (a hung Patroni) ends in a Timeout that names the member.
  try {
    co_return co_await net::request(method, endpoint_, path, std::move(text), o);
  } catch (const Timeout& e) {
    if (member_.empty()) throw;
    throw Timeout("the REST API of Patroni " + member_ + " did not answer in time: " + e.what());
  } catch (const Error& e) {
    if (member_.empty() || e.code() != ErrorCode::http) throw;
    throw Error(ErrorCode::http, "the REST API of Patroni " + member_ + " cannot be reached: " + e.what());
  }
}

}  // namespace pglift::patroni
