#pragma once
#include "sluice/api/api.h"  // IWYU pragma: export
