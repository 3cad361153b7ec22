// Internal to the tracking module (its SQL layer).
// Pieces the tracking and registry stores share: MLflow's name and length
// checks, page fetching with offset tokens, ORDER BY assembly, placeholders.
#pragma once

#include <algorithm>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "store/database.h"
#include "tracking/entities.h"
#include "tracking/search.h"

namespace plinth::tracking {

// MLflow's key-name rule (alphanumerics, _ - . space /, and no name that a path
// normalisation would change). `what` names the kind in the message ("metric").
Status ValidateKeyName(std::string_view what, const std::string& name);
// MLflow's "... had length N, which exceeded length limit of L".
Status ValidateLength(std::string_view what, size_t limit, const std::string& value);
// MLflow's max_results check: 1 <= max_results <= limit.
Status CheckMaxResults(int64_t max_results, int64_t limit);
// Experiment ids are integers in the store and strings in the API: the key, or
// kNotFound "No Experiment with id=... exists" for an id no experiment can have.
Result<int64_t> ExperimentKey(const std::string& id);
// `rest` under an artifact location ("<location>/models/<id>/artifacts"), one '/' between.
std::string ArtifactPathUnder(std::string location, std::string_view rest);
// MLflow's generated names for runs and logged models: adjective-noun-N.
std::string RandomRunName();
// A metric value read from (value, is_nan) columns.
double MetricValue(const store::Row& r, size_t value_col, size_t nan_col);
// "?, ?, ?" for n values.
std::string Placeholders(size_t n);

// Runs `select` + " IN (?, ...)" + `rest` with `keys` bound, at most 500 keys a
// query, and hands every row to `row_fn`: how the loaders hang child rows
// (tags, aliases, params, metrics) on the parents they have just read. Keys
// must be distinct, so all rows of one parent come from one query, in its order.
template <typename RowFn>
Status ForEachRowIn(store::Database& db, std::string_view select,
                    std::span<const store::Value> keys, std::string_view rest, RowFn row_fn) {
  constexpr size_t kKeysPerQuery = 500;
  for (size_t i = 0; i < keys.size(); i += kKeysPerQuery) {
    std::span<const store::Value> chunk = keys.subspan(i, std::min(kKeysPerQuery, keys.size() - i));
    std::string sql(select);
    sql += " IN (" + Placeholders(chunk.size()) + ")";
    sql += rest;
    PLINTH_ASSIGN_OR_RETURN(std::vector<store::Row> rows, db.Query(sql, chunk));
    for (const store::Row& row : rows) {
      row_fn(row);
    }
  }
  return Status::Ok();
}

// A search statement: `select_from` ("SELECT ... FROM runs r"), the joins of
// `order_by` (see CompileOrderBy), " WHERE " `where`, and " ORDER BY " the
// terms of `order_by` then `tiebreak`; its values bound in that order.
Result<SqlFragment> SearchStatement(std::string_view select_from, const SqlFragment& where,
                                    const std::vector<std::string>& order_by,
                                    const SearchTarget& target, const SqlNames& names,
                                    std::string_view tiebreak);

// Runs `sql` for one page (LIMIT/OFFSET from `page_token`; max_results 0 = the
// rest) and converts its rows with `load`.
template <typename T, typename Load>
Result<Page<T>> FetchPage(store::Database& db, SqlFragment statement, int64_t max_results,
                          const std::string& page_token, Load load) {
  std::string& sql = statement.sql;
  std::vector<store::Value>& params = statement.params;
  int64_t offset = 0;
  if (!page_token.empty()) {
    PLINTH_ASSIGN_OR_RETURN(offset, DecodePageToken(page_token));
  }
  if (max_results > 0) {
    sql += " LIMIT ? OFFSET ?";
    params.emplace_back(max_results + 1);  // one more tells whether a next page exists
    params.emplace_back(offset);
  } else if (offset > 0) {
    // SQLite needs a LIMIT before OFFSET; -1 is none. PostgreSQL takes OFFSET alone.
    sql += db.engine() == store::Engine::kPostgres ? " OFFSET ?" : " LIMIT -1 OFFSET ?";
    params.emplace_back(offset);
  }
  PLINTH_ASSIGN_OR_RETURN(std::vector<store::Row> rows, db.Query(sql, params));
  Page<T> page;
  if (max_results > 0 && static_cast<int64_t>(rows.size()) > max_results) {
    rows.erase(rows.begin() + max_results, rows.end());
    page.next_page_token = EncodePageToken(offset + max_results);
  }
  PLINTH_ASSIGN_OR_RETURN(page.items, load(rows));
  return page;
}

}  // namespace plinth::tracking
