package blt4j.compute.opencl;

import static org.jocl.CL.*;

import java.util.ArrayList;
import java.util.List;
import org.jocl.cl_device_id;
import org.jocl.cl_platform_id;

/** Device discovery for {@code blt devices} and for profile matching. */
public final class OpenClDevices {
    private OpenClDevices() {}

    /** Every device of every platform. Throws {@link OpenClUnavailableException} when OpenCL is missing. */
    public static List<OpenClDeviceInfo> list() {
        List<OpenClDeviceInfo> out = new ArrayList<>();
        cl_platform_id[] ps = OpenCl.platforms();
        for (int pi = 0; pi < ps.length; pi++) {
            cl_device_id[] ds = OpenCl.devices(ps[pi]);
            for (int di = 0; di < ds.length; di++) {
                out.add(info(ps[pi], pi, ds[di], di));
            }
        }
        return out;
    }

    static OpenClDeviceInfo info(cl_platform_id p, int pi, cl_device_id d, int di) {
        String ext = OpenCl.deviceString(d, CL_DEVICE_EXTENSIONS);
        return new OpenClDeviceInfo(pi, OpenCl.platformString(p, CL_PLATFORM_NAME), OpenCl.platformString(p, CL_PLATFORM_VENDOR),
                OpenCl.platformString(p, CL_PLATFORM_VERSION), di, OpenCl.deviceString(d, CL_DEVICE_NAME),
                OpenCl.deviceString(d, CL_DEVICE_VENDOR), OpenCl.typeName(OpenCl.deviceLong(d, CL_DEVICE_TYPE)),
                OpenCl.deviceInt(d, CL_DEVICE_MAX_COMPUTE_UNITS), OpenCl.deviceLong(d, CL_DEVICE_GLOBAL_MEM_SIZE),
                OpenCl.deviceLong(d, CL_DEVICE_LOCAL_MEM_SIZE), OpenCl.deviceLong(d, CL_DEVICE_MAX_MEM_ALLOC_SIZE),
                OpenCl.deviceSize(d, CL_DEVICE_MAX_WORK_GROUP_SIZE), OpenCl.deviceString(d, CL_DEVICE_OPENCL_C_VERSION),
                OpenCl.deviceString(d, CL_DEVICE_VERSION), OpenCl.deviceString(d, CL_DRIVER_VERSION),
                ext.contains("cl_khr_fp64"));
    }

    /** A human-readable listing; never throws (a missing runtime is reported in the text). */
    public static String report() {
        StringBuilder sb = new StringBuilder();
        List<OpenClDeviceInfo> devices;
        try {
            devices = list();
        } catch (OpenClUnavailableException e) {
            return "opencl: " + e.getMessage() + "\n";
        }
        int lastPlatform = -1;
        for (OpenClDeviceInfo d : devices) {
            if (d.platformIndex() != lastPlatform) {
                sb.append("Platform ").append(d.platformIndex()).append(": ").append(d.platformName()).append(" (")
                        .append(d.platformVendor()).append(", ").append(d.platformVersion()).append(")\n");
                lastPlatform = d.platformIndex();
            }
            sb.append("  Device ").append(d.id()).append(": ").append(d.name()).append('\n')
                    .append("    vendor ").append(d.vendor()).append(", type ").append(d.type()).append(", ")
                    .append(d.computeUnits()).append(" compute units\n")
                    .append("    global memory ").append(d.globalMemBytes() >> 20).append(" MiB, local memory ")
                    .append(d.localMemBytes() >> 10).append(" KiB, max allocation ").append(d.maxAllocBytes() >> 20).append(" MiB\n")
                    .append("    max work-group size ").append(d.maxWorkGroupSize()).append(", ").append(d.openClCVersion())
                    .append(", fp64 ").append(d.fp64() ? "yes" : "no").append(", driver ").append(d.driverVersion()).append('\n');
        }
        if (devices.isEmpty()) {
            sb.append("OpenCL platforms found, but no devices.\n");
        }
        return sb.toString();
    }
}
