//===- Recipes.cpp - stdlib recipes by name -------------------------------===//
#include "Recipes.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <vector>

namespace fs = std::filesystem;

std::string kdc::resolveRecipe(const std::string &input, const std::string &stdlibDir) {
  std::error_code ec;
  if (fs::exists(input, ec) || input.find('/') != std::string::npos)
    return input;
  fs::path name = input;
  if (name.extension() != ".kd")
    name += ".kd";
  fs::path candidate = fs::path(stdlibDir) / "recipes" / name;
  return fs::is_regular_file(candidate, ec) ? candidate.string() : input;
}

std::string kdc::recipeName(const std::string &path) { return fs::path(path).stem().string(); }

/// The first comment line of a recipe, without the `//`.
static std::string headerLine(const fs::path &file) {
  std::ifstream in(file);
  std::string line;
  while (std::getline(in, line)) {
    size_t start = line.find_first_not_of(" \t");
    if (start == std::string::npos)
      continue;
    if (line.compare(start, 2, "//") != 0)
      return "";
    std::string text = line.substr(start + 2);
    text.erase(0, text.find_first_not_of(" \t"));
    if (!text.empty())
      return text;
  }
  return "";
}

bool kdc::listRecipes(const std::string &stdlibDir, std::ostream &os) {
  std::error_code ec;
  std::vector<fs::path> recipes;
  for (fs::directory_iterator it(fs::path(stdlibDir) / "recipes", ec), end; !ec && it != end; it.increment(ec))
    if (it->path().extension() == ".kd")
      recipes.push_back(it->path());
  if (ec)
    return false;
  std::sort(recipes.begin(), recipes.end());
  size_t width = 0;
  for (const fs::path &recipe : recipes)
    width = std::max(width, recipe.stem().string().size());
  for (const fs::path &recipe : recipes) {
    std::string name = recipe.stem().string();
    os << name << std::string(width - name.size() + 2, ' ') << headerLine(recipe) << '\n';
  }
  return true;
}
