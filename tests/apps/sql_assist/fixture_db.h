// A small generated SQLite database for the sql_assist tests: singers (30 rows, so
// cross joins explode) and their concerts, with a foreign key between them.
#pragma once

#include <fstream>
#include <iterator>
#include <string>

#include "core/hash.h"
#include "core/sqlite.h"

namespace moerag::testing {

inline void make_music_db(const std::string& path) {
  auto c = sql::Connection::open(path, {false, true, 5000, false});
  if (!c.ok()) std::abort();
  std::string sql =
      "CREATE TABLE singer (singer_id INTEGER PRIMARY KEY, name TEXT, country TEXT, age INTEGER, song_name TEXT);"
      "CREATE TABLE concert (concert_id INTEGER PRIMARY KEY, concert_name TEXT, year INTEGER,"
      " singer_id INTEGER REFERENCES singer(singer_id));";
  const char* countries[] = {"France", "United States", "China", "Netherlands", "Japan"};
  for (int i = 1; i <= 30; ++i)
    sql += "INSERT INTO singer VALUES (" + std::to_string(i) + ", 'Singer " + std::to_string(i) + "', '" +
           countries[i % 5] + "', " + std::to_string(20 + i) + ", 'Song " + std::to_string(i) + "');";
  for (int i = 1; i <= 12; ++i)
    sql += "INSERT INTO concert VALUES (" + std::to_string(i) + ", 'Tour " + std::to_string(i) + "', " +
           std::to_string(2010 + i % 6) + ", " + std::to_string(1 + i % 4) + ");";
  if (!(*c)->exec(sql).ok()) std::abort();
}

inline std::string file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace moerag::testing
