#include "postgres/session.hpp"

#include <libpq-fe.h>

#include "core/text.hpp"
#include "pglift/errors.hpp"

namespace pglift::postgres {

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

bool ping(const std::string& ci) {
  // A probe must end soon even when the server hangs (SIGSTOPped, overloaded): 2 s is libpq's minimum.
  const std::string bounded = ci + " connect_timeout=2";
  return PQping(bounded.c_str()) == PQPING_OK;
}

Session::Session(const std::string& ci) : conn_(PQconnectdb(ci.c_str())) {
  if (PQstatus(conn_) != CONNECTION_OK) {
    std::string msg = core::trim(PQerrorMessage(conn_));
    PQfinish(conn_);
    throw StateError("could not connect to PostgreSQL: " + msg);
  }
}

Session::~Session() { PQfinish(conn_); }

std::vector<Row> Session::query(const std::string& sql, const std::vector<std::string>& params) {
  std::vector<const char*> values;
  for (const auto& p : params) values.push_back(p.c_str());
  PGresult* res = PQexecParams(conn_, sql.c_str(), static_cast<int>(values.size()), nullptr, values.data(), nullptr,
                               nullptr, 0);
  auto status = PQresultStatus(res);
  if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
    std::string msg = core::trim(PQresultErrorMessage(res));
    PQclear(res);
    throw StateError(msg);
  }
  std::vector<Row> rows;
  for (int r = 0; r < PQntuples(res); ++r) {
    Row row;
    for (int c = 0; c < PQnfields(res); ++c)
      row.push_back(PQgetisnull(res, r, c) ? std::nullopt : std::optional<std::string>(PQgetvalue(res, r, c)));
    rows.push_back(std::move(row));
  }
  PQclear(res);
  return rows;
}

void Session::execute(const std::string& sql, const std::vector<std::string>& params) { query(sql, params); }

void Session::execute_simple(const std::string& command) {
  PGresult* res = PQexec(conn_, command.c_str());
  auto status = PQresultStatus(res);
  std::string msg = status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK ? "" : core::trim(PQresultErrorMessage(res));
  PQclear(res);
  if (!msg.empty()) throw StateError(msg);
}

// --- databases ---
Session::Result Session::run(const std::string& sql) {
  if (PQsendQuery(conn_, sql.c_str()) != 1) throw StateError(core::trim(PQerrorMessage(conn_)));
  Result out;
  std::string error;
  // Every result is read (libpq requires it before the next command); the last one is kept.
  while (PGresult* res = PQgetResult(conn_)) {
    auto status = PQresultStatus(res);
    if (status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK) {
      Result r;
      for (int c = 0; c < PQnfields(res); ++c) r.columns.emplace_back(PQfname(res, c));
      for (int i = 0; i < PQntuples(res); ++i) {
        Row row;
        for (int c = 0; c < PQnfields(res); ++c)
          row.push_back(PQgetisnull(res, i, c) ? std::nullopt : std::optional<std::string>(PQgetvalue(res, i, c)));
        r.rows.push_back(std::move(row));
      }
      r.status = PQcmdStatus(res);
      out = std::move(r);
    } else if (status == PGRES_COPY_IN) {  // no data to send: end it, or the loop never ends
      PQputCopyEnd(conn_, "COPY FROM STDIN is not supported here");
    } else if (status == PGRES_COPY_OUT) {  // drained and dropped
      char* buf = nullptr;
      while (PQgetCopyData(conn_, &buf, 0) > 0) PQfreemem(buf);
    } else if (status == PGRES_COPY_BOTH) {
      PQclear(res);
      throw StateError("replication commands are not supported here");
    } else if (error.empty() && status != PGRES_EMPTY_QUERY) {
      // The server's fields, not PQresultErrorMessage: its "LINE 1: ..." context quotes the statement,
      // which is the user's and may hold a password.
      auto field = [res](int code) {
        const char* v = PQresultErrorField(res, code);
        return v ? std::string(v) : std::string();
      };
      error = field(PG_DIAG_MESSAGE_PRIMARY);
      if (error.empty()) {
        error = core::trim(PQresultErrorMessage(res));  // a client-side failure: no statement in it
      } else {
        const std::string severity = field(PG_DIAG_SEVERITY), position = field(PG_DIAG_STATEMENT_POSITION),
                          detail = field(PG_DIAG_MESSAGE_DETAIL), hint = field(PG_DIAG_MESSAGE_HINT);
        if (!severity.empty()) error = severity + ":  " + error;
        if (!position.empty()) error += " (at character " + position + ")";
        if (!detail.empty()) error += "\nDETAIL:  " + detail;
        if (!hint.empty()) error += "\nHINT:  " + hint;
      }
      if (error.empty()) error = PQresStatus(status);
    }
    PQclear(res);
  }
  if (!error.empty()) throw StateError(error);
  return out;
}
// --- end databases ---

namespace {
std::string escaped(pg_conn* conn, char* quoted, std::string_view what) {
  if (!quoted) throw StateError("cannot quote " + std::string(what) + ": " + core::trim(PQerrorMessage(conn)));
  std::string out(quoted);
  PQfreemem(quoted);
  return out;
}
}  // namespace

std::string Session::literal(std::string_view value) {
  return escaped(conn_, PQescapeLiteral(conn_, value.data(), value.size()), "an SQL literal");
}

std::string Session::identifier(std::string_view name) {
  return escaped(conn_, PQescapeIdentifier(conn_, name.data(), name.size()), "an SQL identifier");
}

std::string Session::encrypt_password(const std::string& password, const std::string& role) {
  char* enc = PQencryptPasswordConn(conn_, password.c_str(), role.c_str(), nullptr);
  if (!enc) throw StateError("could not encrypt password: " + core::trim(PQerrorMessage(conn_)));
  std::string out(enc);
  PQfreemem(enc);
  return out;
}

}  // namespace pglift::postgres
