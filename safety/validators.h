// Checksums and format checks that turn a pattern match into a real finding: Luhn
// for card numbers, ISO 7064 MOD 11-2 for Chinese resident ID numbers, ISO 13616
// mod-97 for IBANs, octet ranges for IP addresses. Rules name them by string.
#pragma once

#include <string_view>

namespace moerag::safety {

/// Luhn check over the digits of s (spaces and dashes ignored); 13-19 digits.
bool luhn_valid(std::string_view s);

/// 18-character Chinese resident ID (GB 11643-1999): plausible birth date and the
/// MOD 11-2 check character (0-9 or X/x).
bool cn_id_valid(std::string_view s);

/// IBAN (ISO 13616): 2 letters, 2 check digits, 11-30 alphanumerics (spaces
/// ignored), remainder 1 under mod 97.
bool iban_valid(std::string_view s);

/// Dotted-quad IPv4 with every octet 0-255 and no leading zeros.
bool ipv4_valid(std::string_view s);

/// IPv6 text form (RFC 4291, incl. "::" and an embedded IPv4 tail).
bool ipv6_valid(std::string_view s);

/// 8-15 digits in all (E.164 allows at most 15), not all the same digit.
bool phone_valid(std::string_view s);

/// Runs the validator called `name` ("luhn", "cn_id", "iban", "ipv4", "ipv6", "phone");
/// an empty name accepts everything; an unknown name rejects everything.
bool run_validator(std::string_view name, std::string_view match);

/// True when `name` is empty or a known validator.
bool validator_known(std::string_view name);

}  // namespace moerag::safety
