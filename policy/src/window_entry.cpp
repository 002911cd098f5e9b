#include "window_entry.h"

namespace podmortem::policy {
namespace {

int hexDigit(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  return -1;
}

}  // namespace

bool parseUuid(std::string_view text, Uuid& out) {
  if (text.size() != 36)
    return false;
  Uuid bytes{};
  size_t byte = 0;
  for (size_t i = 0; i < text.size();) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (text[i] != '-')
        return false;
      ++i;
      continue;
    }
    int high = hexDigit(text[i]);
    int low = hexDigit(text[i + 1]);
    if (high < 0 || low < 0)
      return false;
    bytes[byte++] = static_cast<uint8_t>(high << 4 | low);
    i += 2;
  }
  out = bytes;
  return true;
}

}  // namespace podmortem::policy
