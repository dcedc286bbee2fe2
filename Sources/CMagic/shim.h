#ifndef INTAKE_CMAGIC_SHIM_H
#define INTAKE_CMAGIC_SHIM_H
#include <magic.h>
#endif
