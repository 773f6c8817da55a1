package blt4j.compute.opencl;

import static org.jocl.CL.*;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;
import org.jocl.cl_context;
import org.jocl.cl_context_properties;
import org.jocl.cl_device_id;
import org.jocl.cl_platform_id;

/**
 * One OpenCL context per selected device, shared by every backend on that device for the life of the JVM, so
 * a program built once (see {@link ProgramCache}) serves all of them. Each backend makes its own queue.
 */
final class DeviceContext {
    private static final Map<String, DeviceContext> CONTEXTS = new ConcurrentHashMap<>();

    final cl_platform_id platform;
    final cl_device_id device;
    final cl_context context;
    final OpenClDeviceInfo info;

    private DeviceContext(cl_platform_id platform, cl_device_id device, OpenClDeviceInfo info) {
        this.platform = platform;
        this.device = device;
        this.info = info;
        cl_context_properties cp = new cl_context_properties();
        cp.addProperty(CL_CONTEXT_PLATFORM, platform);
        this.context = clCreateContext(cp, 1, new cl_device_id[] {device}, null, null, null);
    }

    /** The device the profile selects; a profile that matches nothing is an error listing what exists. */
    static DeviceContext select(DeviceProfile profile) {
        cl_platform_id[] ps = OpenCl.platforms();
        record Candidate(cl_platform_id p, cl_device_id d, OpenClDeviceInfo info) {}
        List<Candidate> all = new ArrayList<>();
        List<Candidate> matching = new ArrayList<>();
        Pattern pn = profile.platformName();
        Pattern dn = profile.deviceName();
        String type = profile.deviceType();
        for (int pi = 0; pi < ps.length; pi++) {
            cl_device_id[] ds = OpenCl.devices(ps[pi]);
            for (int di = 0; di < ds.length; di++) {
                OpenClDeviceInfo info = OpenClDevices.info(ps[pi], pi, ds[di], di);
                Candidate c = new Candidate(ps[pi], ds[di], info);
                all.add(c);
                boolean ok = (profile.platformIndex() < 0 || profile.platformIndex() == pi)
                        && (pn == null || pn.matcher(info.platformName()).find())
                        && (dn == null || dn.matcher(info.name()).find())
                        && (type.equals("ALL") || info.type().contains(type));
                if (ok) {
                    matching.add(c);
                }
            }
        }
        if (matching.isEmpty() || profile.deviceIndex() >= matching.size()) {
            StringBuilder sb = new StringBuilder("no OpenCL device matches " + profile + " (platform.name=" + pn
                    + ", platform.index=" + profile.platformIndex() + ", device.name=" + dn + ", device.type=" + type
                    + ", device.index=" + profile.deviceIndex() + "). Available devices:");
            for (Candidate c : all) {
                sb.append("\n  ").append(c.info().summary()).append(" on ").append(c.info().platformName());
            }
            if (all.isEmpty()) {
                sb.append(" none");
            }
            throw new IllegalArgumentException(sb.toString());
        }
        Candidate chosen;
        if (profile.deviceIndex() >= 0) {
            chosen = matching.get(profile.deviceIndex());
        } else if (type.equals("ALL")) {
            chosen = matching.stream().filter(c -> c.info().type().contains("GPU")).findFirst()
                    .orElse(matching.stream().filter(c -> c.info().type().contains("ACCELERATOR")).findFirst()
                            .orElse(matching.get(0)));
        } else {
            chosen = matching.get(0);
        }
        Candidate c = chosen;
        return CONTEXTS.computeIfAbsent(c.info().id() + "|" + c.info().name(), k -> new DeviceContext(c.p(), c.d(), c.info()));
    }
}
