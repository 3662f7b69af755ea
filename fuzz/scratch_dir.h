#pragma once
// A per-process scratch directory for the reader fuzz targets, which read files: each
// input is written to the same path before it is read, and rejects files land beside
// it. The directory is under /dev/shm when it exists (no disk I/O per input), else
// under $TMPDIR or /tmp, and is removed at normal process exit. Not thread-safe: one
// fuzz target process calls it from one thread.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

namespace sluice::fuzz {

class ScratchDir {
 public:
  /// The process's scratch directory (created on first use).
  static const std::string& Path() {
    static const std::string* path = Create();
    return *path;
  }

  /// Writes `data` to Path()/name (replacing it) and returns the file's path.
  static std::string Write(const std::string& name, const uint8_t* data, size_t size) {
    std::string file = Path() + "/" + name;
    std::FILE* f = std::fopen(file.c_str(), "wb");
    if (f == nullptr || (size > 0 && std::fwrite(data, 1, size, f) != size) ||
        std::fclose(f) != 0) {
      std::perror(file.c_str());
      std::abort();
    }
    return file;
  }

  /// Removes Path()/name if it exists.
  static void Remove(const std::string& name) {
    std::error_code ec;
    std::filesystem::remove(Path() + "/" + name, ec);
  }

 private:
  static std::string* Create() {
    std::string base = "/tmp";
    if (const char* tmp = std::getenv("TMPDIR"); tmp != nullptr && *tmp != '\0')
      base = tmp;
    if (std::filesystem::is_directory("/dev/shm") && access("/dev/shm", W_OK) == 0) {
      base = "/dev/shm";
    }
    std::string pattern = base + "/sluice-fuzz-XXXXXX";
    if (mkdtemp(pattern.data()) == nullptr) {
      std::perror("mkdtemp");
      std::abort();
    }
    auto* path = new std::string(pattern);  // lives for the process
    std::atexit([] {
      std::error_code ec;
      std::filesystem::remove_all(Path(), ec);
    });
    return path;
  }
};

}  // namespace sluice::fuzz
