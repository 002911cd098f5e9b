#pragma once

#include <string>
#include <string_view>

namespace podmortem::core {

// Standard base64 (RFC 4648 section 4, with padding), via OpenSSL: signatures, DSSE envelopes,
// Content-MD5.
std::string base64Encode(std::string_view bytes);
// False when `text` is not padded standard base64; `out` then holds nothing meaningful.
bool base64Decode(std::string_view text, std::string& out);

}  // namespace podmortem::core
