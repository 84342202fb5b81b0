// Checksum algorithms for PII findings (see validators.h). References: ISO/IEC 7812
// (Luhn), GB 11643-1999 / ISO 7064 MOD 11-2 (Chinese ID), ISO 13616-1 (IBAN).
#include "safety/validators.h"

#include <arpa/inet.h>

#include <string>

namespace moerag::safety {

bool luhn_valid(std::string_view s) {
  int digits[32];
  int n = 0;
  for (char c : s) {
    if (c >= '0' && c <= '9') {
      if (n == 32) return false;
      digits[n++] = c - '0';
    } else if (c != ' ' && c != '-') {
      return false;
    }
  }
  if (n < 13 || n > 19) return false;
  bool all_same = true;
  for (int i = 1; i < n; ++i) all_same = all_same && digits[i] == digits[0];
  if (all_same) return false;  // 0000 0000 0000 0000 passes Luhn but is no card
  int sum = 0;
  for (int i = n - 1, k = 0; i >= 0; --i, ++k) {
    int d = digits[i];
    if (k % 2 == 1) { d *= 2; if (d > 9) d -= 9; }
    sum += d;
  }
  return sum % 10 == 0;
}

bool cn_id_valid(std::string_view s) {
  if (s.size() != 18) return false;
  static const int kWeights[17] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
  static const char kCheck[11] = {'1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'};
  int sum = 0;
  for (int i = 0; i < 17; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    sum += (s[i] - '0') * kWeights[i];
  }
  char want = kCheck[sum % 11];
  char got = (s[17] == 'x') ? 'X' : s[17];
  if (got != want) return false;
  int year = std::stoi(std::string(s.substr(6, 4)));
  int month = std::stoi(std::string(s.substr(10, 2)));
  int day = std::stoi(std::string(s.substr(12, 2)));
  return year >= 1900 && year <= 2100 && month >= 1 && month <= 12 && day >= 1 && day <= 31;
}

bool iban_valid(std::string_view s) {
  std::string c;
  for (char ch : s) {
    if (ch == ' ') continue;
    if (ch >= 'a' && ch <= 'z') ch = static_cast<char>(ch - 32);
    if (!((ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9'))) return false;
    c.push_back(ch);
  }
  if (c.size() < 15 || c.size() > 34) return false;
  if (!(c[0] >= 'A' && c[0] <= 'Z' && c[1] >= 'A' && c[1] <= 'Z' && c[2] >= '0' && c[2] <= '9' && c[3] >= '0' &&
        c[3] <= '9'))
    return false;
  std::string r = c.substr(4) + c.substr(0, 4);
  int mod = 0;
  for (char ch : r) {
    if (ch >= '0' && ch <= '9') {
      mod = (mod * 10 + (ch - '0')) % 97;
    } else {
      int v = ch - 'A' + 10;  // letters count as two digits
      mod = (mod * 100 + v) % 97;
    }
  }
  return mod == 1;
}

bool ipv4_valid(std::string_view s) {
  int parts = 0;
  size_t i = 0;
  while (i <= s.size()) {
    size_t j = s.find('.', i);
    if (j == std::string_view::npos) j = s.size();
    std::string_view p = s.substr(i, j - i);
    if (p.empty() || p.size() > 3 || (p.size() > 1 && p[0] == '0')) return false;
    int v = 0;
    for (char c : p) {
      if (c < '0' || c > '9') return false;
      v = v * 10 + (c - '0');
    }
    if (v > 255) return false;
    ++parts;
    i = j + 1;
    if (j == s.size()) break;
  }
  return parts == 4;
}

bool ipv6_valid(std::string_view s) {
  if (s.size() < 2 || s.size() > 45) return false;
  // At least three non-empty groups, so "d::" in C++ code ("std::string") is no address.
  int groups = 0;
  for (size_t i = 0; i < s.size(); ++i)
    if (s[i] != ':' && (i == 0 || s[i - 1] == ':')) ++groups;
  if (groups < 3) return false;
  unsigned char buf[16];
  return inet_pton(AF_INET6, std::string(s).c_str(), buf) == 1;
}

bool phone_valid(std::string_view s) {
  int n = 0, first = -1;
  bool same = true;
  for (char c : s) {
    if (c < '0' || c > '9') continue;
    if (first < 0) first = c;
    same = same && c == first;
    ++n;
  }
  return n >= 8 && n <= 15 && !same;
}

bool run_validator(std::string_view name, std::string_view m) {
  if (name.empty()) return true;
  if (name == "luhn") return luhn_valid(m);
  if (name == "cn_id") return cn_id_valid(m);
  if (name == "iban") return iban_valid(m);
  if (name == "ipv4") return ipv4_valid(m);
  if (name == "ipv6") return ipv6_valid(m);
  if (name == "phone") return phone_valid(m);
  return false;
}

bool validator_known(std::string_view name) {
  return name.empty() || name == "luhn" || name == "cn_id" || name == "iban" || name == "ipv4" || name == "ipv6" ||
         name == "phone";
}

}  // namespace moerag::safety
