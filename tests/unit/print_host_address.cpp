// Prints the address libpglift chooses for a Patroni member's defaults on this host (patroni::host_address,
// see patroni/address.hpp), or the error, exit 1. For tests/hosts/default_address.sh, which runs it in network namespaces.
#include <cstdio>
#include <exception>

#include "patroni/config.hpp"

int main() {
  try {
    std::puts(pglift::patroni::host_address().c_str());  // what resolve_member uses
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
}
