package blt4j.compute.opencl;

/** What {@code blt devices} prints for one OpenCL device. Memory sizes are in bytes. */
public record OpenClDeviceInfo(int platformIndex, String platformName, String platformVendor, String platformVersion,
                               int deviceIndex, String name, String vendor, String type, int computeUnits,
                               long globalMemBytes, long localMemBytes, long maxAllocBytes, long maxWorkGroupSize,
                               String openClCVersion, String deviceVersion, String driverVersion, boolean fp64) {

    /** "platform:device" indices, usable as {@code platform.index} / {@code device.index} in a profile. */
    public String id() {
        return platformIndex + ":" + deviceIndex;
    }

    /** One line per device. */
    public String summary() {
        return String.format("[%s] %s | %s | %s | %d CU | global %d MiB | local %d KiB | max alloc %d MiB | max WG %d | %s | fp64 %s",
                id(), name, vendor, type, computeUnits, globalMemBytes >> 20, localMemBytes >> 10, maxAllocBytes >> 20,
                maxWorkGroupSize, openClCVersion, fp64 ? "yes" : "no");
    }
}
