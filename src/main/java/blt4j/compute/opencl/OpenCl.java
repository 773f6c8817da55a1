package blt4j.compute.opencl;

import static org.jocl.CL.*;

import java.nio.charset.StandardCharsets;
import org.jocl.CL;
import org.jocl.CLException;
import org.jocl.Pointer;
import org.jocl.Sizeof;
import org.jocl.cl_device_id;
import org.jocl.cl_platform_id;
import org.jocl.cl_program;

/** JOCL start-up with clear errors, and small typed wrappers around clGet*Info. */
final class OpenCl {
    private OpenCl() {}

    private static volatile boolean loaded;

    /** Loads JOCL's native library and enables exceptions; wraps every failure in {@link OpenClUnavailableException}. */
    static synchronized void load() {
        if (loaded) {
            return;
        }
        try {
            CL.setExceptionsEnabled(true);
        } catch (UnsatisfiedLinkError e) {
            throw new OpenClUnavailableException("JOCL's native library could not be loaded (" + e.getMessage() + ")", e);
        } catch (Throwable e) {
            throw new OpenClUnavailableException("JOCL failed to initialise (" + e + ")", e);
        }
        loaded = true;
    }

    /** Every platform; throws {@link OpenClUnavailableException} when there is none. */
    static cl_platform_id[] platforms() {
        load();
        int[] n = new int[1];
        try {
            clGetPlatformIDs(0, null, n);
        } catch (CLException e) {
            throw new OpenClUnavailableException("no OpenCL platform found (" + e.getMessage() + ")", e);
        } catch (UnsatisfiedLinkError e) {
            throw new OpenClUnavailableException("the OpenCL library libOpenCL.so could not be loaded (" + e.getMessage() + ")", e);
        } catch (Throwable e) {
            throw new OpenClUnavailableException("listing OpenCL platforms failed (" + e + ")", e);
        }
        if (n[0] == 0) {
            throw new OpenClUnavailableException("no OpenCL platform found (clGetPlatformIDs returned 0 platforms)", null);
        }
        cl_platform_id[] ps = new cl_platform_id[n[0]];
        clGetPlatformIDs(n[0], ps, null);
        return ps;
    }

    static cl_device_id[] devices(cl_platform_id platform) {
        int[] n = new int[1];
        try {
            clGetDeviceIDs(platform, CL_DEVICE_TYPE_ALL, 0, null, n);
        } catch (CLException e) {
            if (e.getStatus() == CL_DEVICE_NOT_FOUND) {
                return new cl_device_id[0];
            }
            throw e;
        }
        cl_device_id[] ds = new cl_device_id[n[0]];
        clGetDeviceIDs(platform, CL_DEVICE_TYPE_ALL, n[0], ds, null);
        return ds;
    }

    static String platformString(cl_platform_id p, int param) {
        long[] size = new long[1];
        clGetPlatformInfo(p, param, 0, null, size);
        byte[] b = new byte[(int) size[0]];
        clGetPlatformInfo(p, param, b.length, Pointer.to(b), null);
        return cString(b);
    }

    static String deviceString(cl_device_id d, int param) {
        long[] size = new long[1];
        clGetDeviceInfo(d, param, 0, null, size);
        byte[] b = new byte[(int) size[0]];
        clGetDeviceInfo(d, param, b.length, Pointer.to(b), null);
        return cString(b);
    }

    static long deviceLong(cl_device_id d, int param) {
        long[] v = new long[1];
        clGetDeviceInfo(d, param, Sizeof.cl_ulong, Pointer.to(v), null);
        return v[0];
    }

    static int deviceInt(cl_device_id d, int param) {
        int[] v = new int[1];
        clGetDeviceInfo(d, param, Sizeof.cl_uint, Pointer.to(v), null);
        return v[0];
    }

    static long deviceSize(cl_device_id d, int param) {
        long[] v = new long[1];
        clGetDeviceInfo(d, param, Sizeof.size_t, Pointer.to(v), null);
        return v[0];
    }

    static String buildLog(cl_program program, cl_device_id device) {
        try {
            long[] size = new long[1];
            clGetProgramBuildInfo(program, device, CL_PROGRAM_BUILD_LOG, 0, null, size);
            byte[] b = new byte[(int) size[0]];
            clGetProgramBuildInfo(program, device, CL_PROGRAM_BUILD_LOG, b.length, Pointer.to(b), null);
            return cString(b);
        } catch (Throwable e) {
            return "(build log unavailable: " + e + ")";
        }
    }

    static String cString(byte[] b) {
        int n = b.length;
        while (n > 0 && b[n - 1] == 0) {
            n--;
        }
        return new String(b, 0, n, StandardCharsets.UTF_8).trim();
    }

    static String typeName(long type) {
        StringBuilder sb = new StringBuilder();
        if ((type & CL_DEVICE_TYPE_CPU) != 0) sb.append("CPU ");
        if ((type & CL_DEVICE_TYPE_GPU) != 0) sb.append("GPU ");
        if ((type & CL_DEVICE_TYPE_ACCELERATOR) != 0) sb.append("ACCELERATOR ");
        if ((type & CL_DEVICE_TYPE_CUSTOM) != 0) sb.append("CUSTOM ");
        if ((type & CL_DEVICE_TYPE_DEFAULT) != 0 && sb.length() == 0) sb.append("DEFAULT ");
        return sb.length() == 0 ? "UNKNOWN" : sb.toString().trim();
    }
}
