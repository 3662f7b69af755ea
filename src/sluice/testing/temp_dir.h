#pragma once
// Test support: a scratch directory removed at scope exit.
#include <string>

namespace sluice::testing {

class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  /// path() + "/" + name
  std::string Join(const std::string& name) const;

 private:
  std::string path_;
};

/// Writes `text` to `path`, creating parent directories.
void WriteFile(const std::string& path, const std::string& text);
/// Reads a whole file ("" if missing).
std::string ReadFile(const std::string& path);

}  // namespace sluice::testing
