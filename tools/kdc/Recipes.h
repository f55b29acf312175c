//===- Recipes.h - stdlib recipes by name -----------------------*- C++ -*-===//
#ifndef KDC_RECIPES_H
#define KDC_RECIPES_H

#include <ostream>
#include <string>

namespace kdc {

/// `input` itself when it names a file; else, for a bare name such as
/// `hinton`, `<stdlib>/recipes/hinton.kd` when that exists; else `input`
/// (whose opening then fails with the usual error).
std::string resolveRecipe(const std::string &input, const std::string &stdlibDir);

/// The name a run directory is called after: the file's stem.
std::string recipeName(const std::string &path);

/// Prints each recipe of `<stdlib>/recipes` with the first line of its
/// header comment; returns false if the folder cannot be read.
bool listRecipes(const std::string &stdlibDir, std::ostream &os);

} // namespace kdc

#endif // KDC_RECIPES_H
