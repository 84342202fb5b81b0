// CUDA device discovery, callable from host code that never includes CUDA headers.
#pragma once

#include <string>

namespace moerag::cuda {

/// Number of usable CUDA devices; 0 when there is no driver or no device.
int device_count();

/// "NAME (sm_XY, N GiB)" of device `index`, or the CUDA error text.
std::string device_description(int index);

}  // namespace moerag::cuda
