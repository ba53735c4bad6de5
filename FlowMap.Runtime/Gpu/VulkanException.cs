using System;
using Silk.NET.Vulkan;

namespace FlowMap.Gpu
{
    /// <summary>A Vulkan call failed. The message names the call and the <see cref="Result"/> it returned.</summary>
    public sealed class VulkanException : Exception
    {
        internal VulkanException(string call, Result result)
            : base($"{call} failed with {result}")
        {
            Call = call;
            ResultCode = (int)result;
        }

        internal VulkanException(string message) : base(message)
        {
            Call = "";
        }

        /// <summary>The Vulkan entry point that failed, e.g. "vkCreateBuffer".</summary>
        public string Call { get; }

        /// <summary>The raw VkResult value (negative for errors).</summary>
        public int ResultCode { get; }
    }

    /// <summary>The validation layer reported errors for work this process submitted.</summary>
    public sealed class VulkanValidationException : Exception
    {
        internal VulkanValidationException(string messages) : base("Vulkan validation errors:\n" + messages) { }
    }

    /// <summary>No Vulkan driver or no usable device: says what to install.</summary>
    public sealed class GpuUnavailableException : Exception
    {
        internal GpuUnavailableException(string message, Exception? inner = null) : base(message, inner) { }
    }

    internal static class VkCheck
    {
        /// <summary>Checks a VkResult in every build; throws naming the call.</summary>
        public static void Check(this Result result, string call)
        {
            if (result != Result.Success)
                throw new VulkanException(call, result);
        }
    }
}
