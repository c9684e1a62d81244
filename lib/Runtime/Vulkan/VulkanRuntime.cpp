//===- VulkanRuntime.cpp - Run SPIR-V kernels through Vulkan --------------===//
#include "flash/Runtime/Vulkan.h"

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>

#ifdef FLASH_HAVE_VULKAN
#include <vulkan/vulkan.h>
#endif

namespace vk = ::flash::runtime::vulkan;

namespace {
thread_local std::string threadError;

std::mutex statsMutex;
vk::Stats counters;

double msSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(
             std::chrono::steady_clock::now() - start)
      .count();
}
} // namespace

std::string vk::takeError() {
  std::string error;
  error.swap(threadError);
  return error;
}

vk::Stats vk::stats() {
  std::lock_guard<std::mutex> lock(statsMutex);
  return counters;
}

void vk::resetStats() {
  std::lock_guard<std::mutex> lock(statsMutex);
  counters = Stats();
}

#ifndef FLASH_HAVE_VULKAN

bool vk::available(std::string &why) {
  why = "FlashCompile was built without Vulkan (no Vulkan headers and "
        "loader when it was configured: install libvulkan-dev)";
  return false;
}
std::string vk::deviceName() { return ""; }
std::vector<std::pair<const char *, void *>> vk::symbols() { return {}; }

#else

namespace {
const char *resultName(VkResult result) {
  switch (result) {
#define FLASH_VK_RESULT(name)                                                  \
  case name:                                                                   \
    return #name;
    FLASH_VK_RESULT(VK_NOT_READY)
    FLASH_VK_RESULT(VK_TIMEOUT)
    FLASH_VK_RESULT(VK_INCOMPLETE)
    FLASH_VK_RESULT(VK_ERROR_OUT_OF_HOST_MEMORY)
    FLASH_VK_RESULT(VK_ERROR_OUT_OF_DEVICE_MEMORY)
    FLASH_VK_RESULT(VK_ERROR_INITIALIZATION_FAILED)
    FLASH_VK_RESULT(VK_ERROR_DEVICE_LOST)
    FLASH_VK_RESULT(VK_ERROR_MEMORY_MAP_FAILED)
    FLASH_VK_RESULT(VK_ERROR_LAYER_NOT_PRESENT)
    FLASH_VK_RESULT(VK_ERROR_EXTENSION_NOT_PRESENT)
    FLASH_VK_RESULT(VK_ERROR_FEATURE_NOT_PRESENT)
    FLASH_VK_RESULT(VK_ERROR_INCOMPATIBLE_DRIVER)
    FLASH_VK_RESULT(VK_ERROR_TOO_MANY_OBJECTS)
    FLASH_VK_RESULT(VK_ERROR_FORMAT_NOT_SUPPORTED)
    FLASH_VK_RESULT(VK_ERROR_INVALID_SHADER_NV)
#undef FLASH_VK_RESULT
  default:
    return "VK_ERROR";
  }
}

/// Records the first failure on this thread; true if `result` is success.
bool check(VkResult result, const char *call) {
  if (result == VK_SUCCESS)
    return true;
  if (threadError.empty())
    threadError = std::string(call) + " failed: " + resultName(result) +
                  " (" + std::to_string(static_cast<int>(result)) + ")";
  return false;
}

/// The process's Vulkan device: created on first use, never destroyed (the
/// driver may already be unloaded at exit).
struct Device {
  VkInstance instance = VK_NULL_HANDLE;
  VkPhysicalDevice physical = VK_NULL_HANDLE;
  VkDevice device = VK_NULL_HANDLE;
  VkQueue queue = VK_NULL_HANDLE;
  uint32_t queueFamily = 0;
  VkCommandPool commandPool = VK_NULL_HANDLE;
  VkPhysicalDeviceMemoryProperties memory{};
  std::string name;
  std::string error; ///< why there is none
  std::mutex mutex;  ///< the queue and command pool are used one at a time

  bool create() {
    VkApplicationInfo app{VK_STRUCTURE_TYPE_APPLICATION_INFO};
    app.pApplicationName = "FlashCompile";
    app.apiVersion = VK_API_VERSION_1_1;
    VkInstanceCreateInfo instanceInfo{VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO};
    instanceInfo.pApplicationInfo = &app;
    if (!fail(vkCreateInstance(&instanceInfo, nullptr, &instance),
              "vkCreateInstance"))
      return false;
    uint32_t count = 0;
    vkEnumeratePhysicalDevices(instance, &count, nullptr);
    std::vector<VkPhysicalDevice> devices(count);
    if (count)
      vkEnumeratePhysicalDevices(instance, &count, devices.data());
    // A real GPU before a CPU implementation; FLASH_VULKAN_DEVICE=<index>
    // picks one.
    int best = -1, bestRank = -1;
    for (uint32_t i = 0; i < count; ++i) {
      VkPhysicalDeviceProperties props;
      vkGetPhysicalDeviceProperties(devices[i], &props);
      int rank = props.deviceType == VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU ? 3
                 : props.deviceType == VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU
                     ? 2
                     : 1;
      if (computeFamily(devices[i]) >= 0 && rank > bestRank) {
        best = static_cast<int>(i);
        bestRank = rank;
      }
    }
    if (const char *pick = std::getenv("FLASH_VULKAN_DEVICE"))
      best = std::atoi(pick) < static_cast<int>(count) ? std::atoi(pick) : -1;
    if (best < 0) {
      error = "no Vulkan device with a compute queue (" +
              std::to_string(count) +
              " devices; on a machine without a GPU install Mesa's "
              "lavapipe: apt-get install mesa-vulkan-drivers)";
      return false;
    }
    physical = devices[best];
    queueFamily = static_cast<uint32_t>(computeFamily(physical));
    VkPhysicalDeviceProperties props;
    vkGetPhysicalDeviceProperties(physical, &props);
    name = props.deviceName;
    vkGetPhysicalDeviceMemoryProperties(physical, &memory);

    float priority = 1.0f;
    VkDeviceQueueCreateInfo queueInfo{VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO};
    queueInfo.queueFamilyIndex = queueFamily;
    queueInfo.queueCount = 1;
    queueInfo.pQueuePriorities = &priority;
    VkPhysicalDeviceFeatures features{};
    features.shaderInt64 = VK_TRUE; // i64 index inputs
    VkDeviceCreateInfo deviceInfo{VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO};
    deviceInfo.queueCreateInfoCount = 1;
    deviceInfo.pQueueCreateInfos = &queueInfo;
    deviceInfo.pEnabledFeatures = &features;
    if (!fail(vkCreateDevice(physical, &deviceInfo, nullptr, &device),
              "vkCreateDevice"))
      return false;
    vkGetDeviceQueue(device, queueFamily, 0, &queue);
    VkCommandPoolCreateInfo poolInfo{VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO};
    poolInfo.flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT;
    poolInfo.queueFamilyIndex = queueFamily;
    return fail(vkCreateCommandPool(device, &poolInfo, nullptr, &commandPool),
                "vkCreateCommandPool");
  }

  bool fail(VkResult result, const char *call) {
    if (result == VK_SUCCESS)
      return true;
    error = std::string(call) + " failed: " + resultName(result) + " (" +
            std::to_string(static_cast<int>(result)) + ")";
    return false;
  }

  static int computeFamily(VkPhysicalDevice physical) {
    uint32_t count = 0;
    vkGetPhysicalDeviceQueueFamilyProperties(physical, &count, nullptr);
    std::vector<VkQueueFamilyProperties> families(count);
    vkGetPhysicalDeviceQueueFamilyProperties(physical, &count, families.data());
    for (uint32_t i = 0; i < count; ++i)
      if (families[i].queueFlags & VK_QUEUE_COMPUTE_BIT)
        return static_cast<int>(i);
    return -1;
  }

  int hostVisibleMemoryType(uint32_t allowed) const {
    VkMemoryPropertyFlags want = VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT |
                                 VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
    for (uint32_t i = 0; i < memory.memoryTypeCount; ++i)
      if ((allowed & (1u << i)) &&
          (memory.memoryTypes[i].propertyFlags & want) == want)
        return static_cast<int>(i);
    return -1;
  }
};

Device &processDevice() {
  static Device *device = [] {
    auto *d = new Device();
    if (!d->create() && d->error.empty())
      d->error = "Vulkan initialization failed";
    return d;
  }();
  return *device;
}

/// The device, or null if there is none (processDevice().error says why).
Device *theDevice() {
  Device &d = processDevice();
  return d.error.empty() ? &d : nullptr;
}

std::mutex modulesMutex; ///< kernel lookup in a module

struct Module;

/// A kernel of a loaded module: its pipeline, made at the first launch
/// (when the number of buffers is known).
struct Kernel {
  Module *module;
  std::string name;
  uint32_t numBuffers = 0;
  VkDescriptorSetLayout setLayout = VK_NULL_HANDLE;
  VkPipelineLayout pipelineLayout = VK_NULL_HANDLE;
  VkPipeline pipeline = VK_NULL_HANDLE;
};

/// A SPIR-V module (one gpu.binary), loaded once per compiled program.
struct Module {
  std::vector<uint32_t> words;
  VkShaderModule shader = VK_NULL_HANDLE;
  std::map<std::string, std::unique_ptr<Kernel>> kernels;
};

bool makePipeline(Device &d, Kernel &k, uint32_t numBuffers) {
  Module &m = *k.module;
  if (m.shader == VK_NULL_HANDLE) {
    VkShaderModuleCreateInfo info{VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO};
    info.codeSize = m.words.size() * 4;
    info.pCode = m.words.data();
    if (!check(vkCreateShaderModule(d.device, &info, nullptr, &m.shader),
               "vkCreateShaderModule"))
      return false;
  }
  std::vector<VkDescriptorSetLayoutBinding> bindings(numBuffers);
  for (uint32_t i = 0; i < numBuffers; ++i) {
    bindings[i].binding = i;
    bindings[i].descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER;
    bindings[i].descriptorCount = 1;
    bindings[i].stageFlags = VK_SHADER_STAGE_COMPUTE_BIT;
  }
  VkDescriptorSetLayoutCreateInfo setInfo{
      VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO};
  setInfo.bindingCount = numBuffers;
  setInfo.pBindings = bindings.data();
  if (!check(vkCreateDescriptorSetLayout(d.device, &setInfo, nullptr,
                                         &k.setLayout),
             "vkCreateDescriptorSetLayout"))
    return false;
  VkPipelineLayoutCreateInfo layoutInfo{
      VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO};
  layoutInfo.setLayoutCount = 1;
  layoutInfo.pSetLayouts = &k.setLayout;
  if (!check(vkCreatePipelineLayout(d.device, &layoutInfo, nullptr,
                                    &k.pipelineLayout),
             "vkCreatePipelineLayout"))
    return false;
  VkComputePipelineCreateInfo pipelineInfo{
      VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO};
  pipelineInfo.stage.sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO;
  pipelineInfo.stage.stage = VK_SHADER_STAGE_COMPUTE_BIT;
  pipelineInfo.stage.module = m.shader;
  pipelineInfo.stage.pName = k.name.c_str();
  pipelineInfo.layout = k.pipelineLayout;
  if (!check(vkCreateComputePipelines(d.device, VK_NULL_HANDLE, 1,
                                      &pipelineInfo, nullptr, &k.pipeline),
             "vkCreateComputePipelines"))
    return false;
  k.numBuffers = numBuffers;
  return true;
}

/// One storage buffer in host-visible memory (on a discrete GPU a staging
/// copy into device-local memory would be faster; lavapipe has only one
/// kind of memory).
struct Buffer {
  VkDevice device = VK_NULL_HANDLE;
  VkBuffer buffer = VK_NULL_HANDLE;
  VkDeviceMemory memory = VK_NULL_HANDLE;
  void *mapped = nullptr;
  ~Buffer() {
    if (mapped)
      vkUnmapMemory(device, memory);
    if (buffer)
      vkDestroyBuffer(device, buffer, nullptr);
    if (memory)
      vkFreeMemory(device, memory, nullptr);
  }
  bool create(Device &d, VkDeviceSize size) {
    device = d.device;
    VkBufferCreateInfo info{VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO};
    info.size = size ? size : 4;
    info.usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT;
    info.sharingMode = VK_SHARING_MODE_EXCLUSIVE;
    if (!check(vkCreateBuffer(d.device, &info, nullptr, &buffer),
               "vkCreateBuffer"))
      return false;
    VkMemoryRequirements req;
    vkGetBufferMemoryRequirements(d.device, buffer, &req);
    int type = d.hostVisibleMemoryType(req.memoryTypeBits);
    if (type < 0)
      return check(VK_ERROR_OUT_OF_DEVICE_MEMORY,
                   "finding host-visible memory for a buffer");
    VkMemoryAllocateInfo alloc{VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO};
    alloc.allocationSize = req.size;
    alloc.memoryTypeIndex = static_cast<uint32_t>(type);
    if (!check(vkAllocateMemory(d.device, &alloc, nullptr, &memory),
               "vkAllocateMemory") ||
        !check(vkBindBufferMemory(d.device, buffer, memory, 0),
               "vkBindBufferMemory") ||
        !check(vkMapMemory(d.device, memory, 0, VK_WHOLE_SIZE, 0, &mapped),
               "vkMapMemory"))
      return false;
    return true;
  }
};

/// One dispatch: `params` holds, per buffer, a pointer to its host pointer
/// and a pointer to its size in bytes (gpu-to-llvm's bare-pointer,
/// interspersed-sizes calling convention).
void launch(Kernel &k, uint32_t gx, uint32_t gy, uint32_t gz, void **params,
            size_t paramsCount) {
  if (!threadError.empty())
    return; // an earlier launch of this call failed
  Device *d = theDevice();
  if (!d) {
    std::string why;
    vk::available(why);
    check(VK_ERROR_INITIALIZATION_FAILED, why.c_str());
    return;
  }
  if (paramsCount % 2 != 0) {
    check(VK_ERROR_INITIALIZATION_FAILED,
          "mgpuLaunchKernel: arguments not in (pointer, size) pairs");
    return;
  }
  uint32_t numBuffers = static_cast<uint32_t>(paramsCount / 2);
  std::lock_guard<std::mutex> lock(d->mutex);
  auto setupStart = std::chrono::steady_clock::now();
  if (k.pipeline == VK_NULL_HANDLE && !makePipeline(*d, k, numBuffers))
    return;
  if (k.numBuffers != numBuffers) {
    check(VK_ERROR_INITIALIZATION_FAILED,
          "mgpuLaunchKernel: a kernel launched with another argument count");
    return;
  }
  std::vector<void *> hosts(numBuffers);
  std::vector<size_t> sizes(numBuffers);
  std::vector<Buffer> buffers(numBuffers);
  for (uint32_t i = 0; i < numBuffers; ++i) {
    hosts[i] = *static_cast<void **>(params[2 * i]);
    sizes[i] = *static_cast<size_t *>(params[2 * i + 1]);
    if (!buffers[i].create(*d, sizes[i]))
      return;
  }
  VkDescriptorPoolSize poolSize{VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
                                std::max(numBuffers, 1u)};
  VkDescriptorPoolCreateInfo poolInfo{
      VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO};
  poolInfo.maxSets = 1;
  poolInfo.poolSizeCount = 1;
  poolInfo.pPoolSizes = &poolSize;
  VkDescriptorPool pool;
  if (!check(vkCreateDescriptorPool(d->device, &poolInfo, nullptr, &pool),
             "vkCreateDescriptorPool"))
    return;
  struct PoolGuard {
    VkDevice device;
    VkDescriptorPool pool;
    ~PoolGuard() { vkDestroyDescriptorPool(device, pool, nullptr); }
  } poolGuard{d->device, pool};
  VkDescriptorSetAllocateInfo setAlloc{
      VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO};
  setAlloc.descriptorPool = pool;
  setAlloc.descriptorSetCount = 1;
  setAlloc.pSetLayouts = &k.setLayout;
  VkDescriptorSet set;
  if (!check(vkAllocateDescriptorSets(d->device, &setAlloc, &set),
             "vkAllocateDescriptorSets"))
    return;
  std::vector<VkDescriptorBufferInfo> infos(numBuffers);
  std::vector<VkWriteDescriptorSet> writes(numBuffers);
  for (uint32_t i = 0; i < numBuffers; ++i) {
    infos[i] = {buffers[i].buffer, 0, VK_WHOLE_SIZE};
    writes[i] = {VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET};
    writes[i].dstSet = set;
    writes[i].dstBinding = i;
    writes[i].descriptorCount = 1;
    writes[i].descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER;
    writes[i].pBufferInfo = &infos[i];
  }
  vkUpdateDescriptorSets(d->device, numBuffers, writes.data(), 0, nullptr);

  VkCommandBufferAllocateInfo cbAlloc{
      VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO};
  cbAlloc.commandPool = d->commandPool;
  cbAlloc.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY;
  cbAlloc.commandBufferCount = 1;
  VkCommandBuffer cb;
  if (!check(vkAllocateCommandBuffers(d->device, &cbAlloc, &cb),
             "vkAllocateCommandBuffers"))
    return;
  struct CommandGuard {
    VkDevice device;
    VkCommandPool pool;
    VkCommandBuffer cb;
    ~CommandGuard() { vkFreeCommandBuffers(device, pool, 1, &cb); }
  } commandGuard{d->device, d->commandPool, cb};
  VkCommandBufferBeginInfo begin{VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO};
  begin.flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT;
  if (!check(vkBeginCommandBuffer(cb, &begin), "vkBeginCommandBuffer"))
    return;
  vkCmdBindPipeline(cb, VK_PIPELINE_BIND_POINT_COMPUTE, k.pipeline);
  vkCmdBindDescriptorSets(cb, VK_PIPELINE_BIND_POINT_COMPUTE, k.pipelineLayout,
                          0, 1, &set, 0, nullptr);
  vkCmdDispatch(cb, gx, gy, gz);
  if (!check(vkEndCommandBuffer(cb), "vkEndCommandBuffer"))
    return;
  VkFenceCreateInfo fenceInfo{VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
  VkFence fence;
  if (!check(vkCreateFence(d->device, &fenceInfo, nullptr, &fence),
             "vkCreateFence"))
    return;
  struct FenceGuard {
    VkDevice device;
    VkFence fence;
    ~FenceGuard() { vkDestroyFence(device, fence, nullptr); }
  } fenceGuard{d->device, fence};
  double setupMs = msSince(setupStart);

  auto copyStart = std::chrono::steady_clock::now();
  int64_t bytes = 0;
  for (uint32_t i = 0; i < numBuffers; ++i) {
    std::memcpy(buffers[i].mapped, hosts[i], sizes[i]);
    bytes += static_cast<int64_t>(sizes[i]);
  }
  double copyMs = msSince(copyStart);

  auto dispatchStart = std::chrono::steady_clock::now();
  VkSubmitInfo submit{VK_STRUCTURE_TYPE_SUBMIT_INFO};
  submit.commandBufferCount = 1;
  submit.pCommandBuffers = &cb;
  if (!check(vkQueueSubmit(d->queue, 1, &submit, fence), "vkQueueSubmit") ||
      !check(vkWaitForFences(d->device, 1, &fence, VK_TRUE, UINT64_MAX),
             "vkWaitForFences"))
    return;
  double dispatchMs = msSince(dispatchStart);

  // Back to the host, the buffers the kernel changed: a kernel's arguments
  // do not say which it writes, and some are constants in read-only
  // memory (weights), which must not be written even with equal bytes.
  copyStart = std::chrono::steady_clock::now();
  int64_t bytesBack = 0;
  for (uint32_t i = 0; i < numBuffers; ++i)
    if (std::memcmp(hosts[i], buffers[i].mapped, sizes[i]) != 0) {
      std::memcpy(hosts[i], buffers[i].mapped, sizes[i]);
      bytesBack += static_cast<int64_t>(sizes[i]);
    }
  copyMs += msSince(copyStart);

  std::lock_guard<std::mutex> statsLock(statsMutex);
  counters.launches += 1;
  counters.bytesToDevice += bytes;
  counters.bytesFromDevice += bytesBack;
  counters.dispatchMs += dispatchMs;
  counters.copyMs += copyMs;
  counters.setupMs += setupMs;
}

// The mgpu* ABI (MLIR's GPU runtime wrappers). Streams are not needed:
// every launch completes before it returns.
extern "C" void *flashVkModuleLoad(const void *data, size_t size) {
  auto *module = new Module();
  module->words.resize((size + 3) / 4);
  std::memcpy(module->words.data(), data, size);
  return module;
}
extern "C" void flashVkModuleUnload(void *) {
  // Kept: kernels of a module may still be cached in a pipeline elsewhere;
  // a module is a few KB per compiled program.
}
extern "C" void *flashVkModuleGetFunction(void *module, const char *name) {
  auto *m = static_cast<Module *>(module);
  std::lock_guard<std::mutex> lock(modulesMutex);
  auto &kernel = m->kernels[name];
  if (!kernel) {
    kernel = std::make_unique<Kernel>();
    kernel->module = m;
    kernel->name = name;
  }
  return kernel.get();
}
extern "C" void *flashVkStreamCreate() { return nullptr; }
extern "C" void flashVkStreamDestroy(void *) {}
extern "C" void flashVkStreamSynchronize(void *) {}
extern "C" void flashVkLaunchKernel(void *kernel, intptr_t gx, intptr_t gy,
                                    intptr_t gz, intptr_t, intptr_t,
                                    intptr_t, int32_t, void *, void **params,
                                    void **, size_t paramsCount) {
  launch(*static_cast<Kernel *>(kernel), static_cast<uint32_t>(gx),
         static_cast<uint32_t>(gy), static_cast<uint32_t>(gz), params,
         paramsCount);
}
} // namespace

bool vk::available(std::string &why) {
  Device &d = processDevice();
  if (d.error.empty())
    return true;
  why = "no usable Vulkan device: " + d.error;
  return false;
}

std::string vk::deviceName() {
  Device *d = theDevice();
  return d ? d->name : "";
}

std::vector<std::pair<const char *, void *>> vk::symbols() {
  return {
      {"mgpuModuleLoad", reinterpret_cast<void *>(&flashVkModuleLoad)},
      {"mgpuModuleUnload", reinterpret_cast<void *>(&flashVkModuleUnload)},
      {"mgpuModuleGetFunction",
       reinterpret_cast<void *>(&flashVkModuleGetFunction)},
      {"mgpuStreamCreate", reinterpret_cast<void *>(&flashVkStreamCreate)},
      {"mgpuStreamDestroy", reinterpret_cast<void *>(&flashVkStreamDestroy)},
      {"mgpuStreamSynchronize",
       reinterpret_cast<void *>(&flashVkStreamSynchronize)},
      {"mgpuLaunchKernel", reinterpret_cast<void *>(&flashVkLaunchKernel)},
  };
}

#endif // FLASH_HAVE_VULKAN
