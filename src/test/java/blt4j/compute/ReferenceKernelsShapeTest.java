package blt4j.compute;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Every public reference kernel keeps the shape a TornadoVM task can run unchanged (see {@link ReferenceKernels}). */
class ReferenceKernelsShapeTest {

    @Test
    void publicKernelsAreLaneBodies() {
        List<String> bad = new ArrayList<>();
        int bodies = 0;
        for (Method m : ReferenceKernels.class.getDeclaredMethods()) {
            if (!Modifier.isPublic(m.getModifiers())) {
                continue;
            }
            bodies++;
            Class<?>[] p = m.getParameterTypes();
            boolean ok = Modifier.isStatic(m.getModifiers()) && m.getReturnType() == void.class && p.length <= 15
                    && m.getExceptionTypes().length == 0 && p[p.length - 1] == int.class;
            boolean holder = false;
            for (Class<?> t : p) {
                ok &= t.isPrimitive() || t == float[].class || t == int[].class || t == double[].class
                        || t == short[].class; // bfloat16 weights: a flat array of 16-bit values
                holder |= t == int[].class;
            }
            if (!ok || !holder) {
                bad.add(m.getName());
            }
        }
        assertTrue(bodies >= 23, "expected the lane bodies of every op, found " + bodies);
        assertEquals(List.of(), bad, "static void, <= 15 flat-array/primitive arguments ending in the int index, no throws");
    }
}
