//===- DifferentiableOpInterface.cpp --------------------------------------===//
#include "kd/Interfaces/DifferentiableOpInterface.h"

#include "kd/Interfaces/DifferentiableOpInterface.cpp.inc"
