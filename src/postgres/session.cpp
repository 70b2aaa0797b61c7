#include "postgres/session.hpp"

#include <dlfcn.h>
#include <libpq-fe.h>

#include <type_traits>

#include "core/text.hpp"
#include "pglift/errors.hpp"
#include "postgres/session_cache.hpp"
#include "postgres/wire.hpp"

namespace pglift::postgres {

namespace {

// libpq is loaded on first use (dlopen), not linked: a program that never talks SQL (the CLI's
// --version, list, most of status) does not pay for loading it and the two dozen libraries it pulls in
// (Kerberos, LDAP, GnuTLS...), which took longer than the rest of such a command.
struct Libpq {
  decltype(&::PQclear) clear;
  decltype(&::PQcmdStatus) cmdStatus;
  decltype(&::PQconnectdb) connectdb;
  decltype(&::PQencryptPasswordConn) encryptPasswordConn;
  decltype(&::PQerrorMessage) errorMessage;
  decltype(&::PQescapeIdentifier) escapeIdentifier;
  decltype(&::PQescapeLiteral) escapeLiteral;
  decltype(&::PQexec) exec;
  decltype(&::PQexecParams) execParams;
  decltype(&::PQfinish) finish;
  decltype(&::PQfname) fname;
  decltype(&::PQfreemem) freemem;
  decltype(&::PQgetCopyData) getCopyData;
  decltype(&::PQgetResult) getResult;
  decltype(&::PQgetisnull) getisnull;
  decltype(&::PQgetvalue) getvalue;
  decltype(&::PQnfields) nfields;
  decltype(&::PQntuples) ntuples;
  decltype(&::PQputCopyEnd) putCopyEnd;
  decltype(&::PQresStatus) resStatus;
  decltype(&::PQresultErrorField) resultErrorField;
  decltype(&::PQresultErrorMessage) resultErrorMessage;
  decltype(&::PQresultStatus) resultStatus;
  decltype(&::PQsendQuery) sendQuery;
  decltype(&::PQstatus) status;
};

const Libpq& pq() {
  static const Libpq lib = [] {
    // RTLD_LOCAL: its symbols stay out of the global namespace; RTLD_NOW: a missing one fails here.
    void* h = ::dlopen("libpq.so.5", RTLD_NOW | RTLD_LOCAL);
    if (!h) throw SystemError(std::string("cannot load libpq (libpq.so.5, the PostgreSQL client library): ") + ::dlerror());
    Libpq l{};
    auto load = [h](auto& fn, const char* name) {
      void* sym = ::dlsym(h, name);
      if (!sym) throw SystemError(std::string("libpq.so.5 has no ") + name);
      fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(sym);
    };
    load(l.clear, "PQclear");
    load(l.cmdStatus, "PQcmdStatus");
    load(l.connectdb, "PQconnectdb");
    load(l.encryptPasswordConn, "PQencryptPasswordConn");
    load(l.errorMessage, "PQerrorMessage");
    load(l.escapeIdentifier, "PQescapeIdentifier");
    load(l.escapeLiteral, "PQescapeLiteral");
    load(l.exec, "PQexec");
    load(l.execParams, "PQexecParams");
    load(l.finish, "PQfinish");
    load(l.fname, "PQfname");
    load(l.freemem, "PQfreemem");
    load(l.getCopyData, "PQgetCopyData");
    load(l.getResult, "PQgetResult");
    load(l.getisnull, "PQgetisnull");
    load(l.getvalue, "PQgetvalue");
    load(l.nfields, "PQnfields");
    load(l.ntuples, "PQntuples");
    load(l.putCopyEnd, "PQputCopyEnd");
    load(l.resStatus, "PQresStatus");
    load(l.resultErrorField, "PQresultErrorField");
    load(l.resultErrorMessage, "PQresultErrorMessage");
    load(l.resultStatus, "PQresultStatus");
    load(l.sendQuery, "PQsendQuery");
    load(l.status, "PQstatus");
    return l;  // the handle stays open for the process's life
  }();
  return lib;
}

}  // namespace

std::string kv(const std::string& key, const std::string& value) {
  std::string out = key + "='";
  for (char c : value) {
    if (c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  return out + "'";
}

std::string conninfo(const Settings& settings, const Layout& layout, int port, const std::string& dbname) {
  std::string ci = kv("host", layout.socket_directory.string()) + " " + kv("port", std::to_string(port)) + " " +
                   kv("user", settings.postgresql.surole.name) + " " + kv("dbname", dbname) +
                   " application_name=pglift connect_timeout=10";
  if (settings.postgresql.auth.passfile) ci += " " + kv("passfile", settings.postgresql.auth.passfile->string());
  return ci;
}

std::vector<Row> query_once(const Settings& settings, const Layout& layout, int port, const std::string& sql,
                            SessionCache* cache, int postmaster_pid) {
  const wire::Endpoint endpoint = wire::superuser(settings, layout, port);
  auto rows = cache ? cache->query(endpoint, postmaster_pid, sql, std::chrono::seconds(10))
                    : wire::query_without_password(endpoint, sql, std::chrono::seconds(10));
  if (rows) return std::move(*rows);
  return Session(conninfo(settings, layout, port)).query(sql);
}

Session::Session(const std::string& ci) : conn_(pq().connectdb(ci.c_str())) {
  if (pq().status(conn_) != CONNECTION_OK) {
    std::string msg = core::trim(pq().errorMessage(conn_));
    pq().finish(conn_);
    throw StateError("could not connect to PostgreSQL: " + msg);
  }
}

Session::~Session() { pq().finish(conn_); }

std::vector<Row> Session::query(const std::string& sql, const std::vector<std::string>& params) {
  std::vector<const char*> values;
  for (const auto& p : params) values.push_back(p.c_str());
  PGresult* res = pq().execParams(conn_, sql.c_str(), static_cast<int>(values.size()), nullptr, values.data(), nullptr,
                               nullptr, 0);
  auto status = pq().resultStatus(res);
  if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
    std::string msg = core::trim(pq().resultErrorMessage(res));
    pq().clear(res);
    throw StateError(msg);
  }
  std::vector<Row> rows;
  for (int r = 0; r < pq().ntuples(res); ++r) {
    Row row;
    for (int c = 0; c < pq().nfields(res); ++c)
      row.push_back(pq().getisnull(res, r, c) ? std::nullopt : std::optional<std::string>(pq().getvalue(res, r, c)));
    rows.push_back(std::move(row));
  }
  pq().clear(res);
  return rows;
}

void Session::execute(const std::string& sql, const std::vector<std::string>& params) { query(sql, params); }

void Session::execute_simple(const std::string& command) {
  PGresult* res = pq().exec(conn_, command.c_str());
  auto status = pq().resultStatus(res);
  std::string msg = status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK ? "" : core::trim(pq().resultErrorMessage(res));
  pq().clear(res);
  if (!msg.empty()) throw StateError(msg);
}

// --- databases ---
Session::Result Session::run(const std::string& sql) {
  if (pq().sendQuery(conn_, sql.c_str()) != 1) throw StateError(core::trim(pq().errorMessage(conn_)));
  Result out;
  std::string error;
  // Every result is read (libpq requires it before the next command); the last one is kept.
  while (PGresult* res = pq().getResult(conn_)) {
    auto status = pq().resultStatus(res);
    if (status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK) {
      Result r;
      for (int c = 0; c < pq().nfields(res); ++c) r.columns.emplace_back(pq().fname(res, c));
      for (int i = 0; i < pq().ntuples(res); ++i) {
        Row row;
        for (int c = 0; c < pq().nfields(res); ++c)
          row.push_back(pq().getisnull(res, i, c) ? std::nullopt : std::optional<std::string>(pq().getvalue(res, i, c)));
        r.rows.push_back(std::move(row));
      }
      r.status = pq().cmdStatus(res);
      out = std::move(r);
    } else if (status == PGRES_COPY_IN) {  // no data to send: end it, or the loop never ends
      pq().putCopyEnd(conn_, "COPY FROM STDIN is not supported here");
    } else if (status == PGRES_COPY_OUT) {  // drained and dropped
      char* buf = nullptr;
      while (pq().getCopyData(conn_, &buf, 0) > 0) pq().freemem(buf);
    } else if (status == PGRES_COPY_BOTH) {
      pq().clear(res);
      throw StateError("replication commands are not supported here");
    } else if (error.empty() && status != PGRES_EMPTY_QUERY) {
      // The server's fields, not PQresultErrorMessage: its "LINE 1: ..." context quotes the statement,
      // which is the user's and may hold a password.
      auto field = [res](int code) {
        const char* v = pq().resultErrorField(res, code);
        return v ? std::string(v) : std::string();
      };
      error = field(PG_DIAG_MESSAGE_PRIMARY);
      if (error.empty()) {
        error = core::trim(pq().resultErrorMessage(res));  // a client-side failure: no statement in it
      } else {
        const std::string severity = field(PG_DIAG_SEVERITY), position = field(PG_DIAG_STATEMENT_POSITION),
                          detail = field(PG_DIAG_MESSAGE_DETAIL), hint = field(PG_DIAG_MESSAGE_HINT);
        if (!severity.empty()) error = severity + ":  " + error;
        if (!position.empty()) error += " (at character " + position + ")";
        if (!detail.empty()) error += "\nDETAIL:  " + detail;
        if (!hint.empty()) error += "\nHINT:  " + hint;
      }
      if (error.empty()) error = pq().resStatus(status);
    }
    pq().clear(res);
  }
  if (!error.empty()) throw StateError(error);
  return out;
}
// --- end databases ---

namespace {
std::string escaped(pg_conn* conn, char* quoted, std::string_view what) {
  if (!quoted) throw StateError("cannot quote " + std::string(what) + ": " + core::trim(pq().errorMessage(conn)));
  std::string out(quoted);
  pq().freemem(quoted);
  return out;
}
}  // namespace

std::string Session::literal(std::string_view value) {
  return escaped(conn_, pq().escapeLiteral(conn_, value.data(), value.size()), "an SQL literal");
}

std::string Session::identifier(std::string_view name) {
  return escaped(conn_, pq().escapeIdentifier(conn_, name.data(), name.size()), "an SQL identifier");
}

std::string Session::encrypt_password(const std::string& password, const std::string& role) {
  char* enc = pq().encryptPasswordConn(conn_, password.c_str(), role.c_str(), nullptr);
  if (!enc) throw StateError("could not encrypt password: " + core::trim(pq().errorMessage(conn_)));
  std::string out(enc);
  pq().freemem(enc);
  return out;
}

}  // namespace pglift::postgres
