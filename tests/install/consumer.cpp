// A C++ program built against the installed libpglift++ only (installed_package.sh compiles it with
// `pkg-config --static --cflags --libs libpglift++`): a Context from settings JSON in a throw-away
// prefix, whose instance list must be empty; prints the list.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <string>
#include <system_error>

#include <pglift/pglift.hpp>

int main() {
  namespace fs = std::filesystem;
  std::string dir = (fs::temp_directory_path() / "pglift-consumer.XXXXXX").string();
  if (mkdtemp(dir.data()) == nullptr) {
    std::perror("mkdtemp");
    return 1;
  }
  const fs::path prefix = dir;
  int rc = 1;
  try {
    // Settings from this document alone: no site file or environment variable counts.
    const std::string settings =
        R"({"prefix": ")" + prefix.string() + R"(", "run_prefix": ")" + (prefix / "run").string() + R"("})";
    pglift::Context ctx(pglift::Settings::from_documents({settings}));
    const auto instances = pglift::list_instances(ctx);
    std::cout << "libpglift++ " << pglift::version() << " (built against " << PGLIFT_VERSION_STRING
              << "), instances in " << prefix.string() << ": " << pglift::to_json(instances) << '\n';
    if (instances.empty())
      rc = 0;
    else
      std::cerr << "expected no instance in a new prefix\n";
  } catch (const pglift::Error& e) {
    std::cerr << "error (" << pglift::to_string(e.code()) << "): " << e.what() << '\n';
  }
  std::error_code ec;
  fs::remove_all(prefix, ec);
  return rc;
}
