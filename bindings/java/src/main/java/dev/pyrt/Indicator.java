package dev.pyrt;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BOOLEAN;
import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/** One catalog record: TA-Lib's name, group, inputs (in the order run and streams take them), parameters, outputs. */
public final class Indicator {
    /** One parameter, as TA-Lib names it; valid from min to max, both included. */
    public record Param(String name, double defaultValue, double min, double max, boolean integer) {}

    // PyrtIndicatorInfo and PyrtParamInfo of pyrt.h.
    private static final StructLayout INFO = MemoryLayout.structLayout(
            ADDRESS.withName("name"), ADDRESS.withName("group"), ADDRESS.withName("display"),
            ADDRESS.withName("inputs"), JAVA_LONG.withName("n_inputs"),
            ADDRESS.withName("params"), JAVA_LONG.withName("n_params"),
            ADDRESS.withName("outputs"), JAVA_LONG.withName("n_outputs"));
    private static final StructLayout PARAM = MemoryLayout.structLayout(
            ADDRESS.withName("name"), JAVA_DOUBLE.withName("default_value"), JAVA_DOUBLE.withName("min"),
            JAVA_DOUBLE.withName("max"), JAVA_BOOLEAN.withName("integer"), MemoryLayout.paddingLayout(7));

    private final String name;
    private final String group;
    private final String display;
    private final List<String> inputs;
    private final List<Param> params;
    private final List<String> outputs;
    final long index;
    /** The record's own static name string: calls pass it without allocating. */
    final MemorySegment cName;

    private Indicator(long index, MemorySegment info) {
        this.index = index;
        this.cName = info.get(ADDRESS, offset(INFO, "name"));
        this.name = Native.cString(cName);
        this.group = Native.cString(info.get(ADDRESS, offset(INFO, "group")));
        this.display = Native.cString(info.get(ADDRESS, offset(INFO, "display")));
        this.inputs = strings(info, "inputs", "n_inputs");
        this.outputs = strings(info, "outputs", "n_outputs");
        long n = info.get(JAVA_LONG, offset(INFO, "n_params"));
        MemorySegment array = info.get(ADDRESS, offset(INFO, "params")).reinterpret(n * PARAM.byteSize());
        List<Param> list = new ArrayList<>();
        for (long i = 0; i < n; i++) {
            MemorySegment p = array.asSlice(i * PARAM.byteSize(), PARAM.byteSize());
            list.add(new Param(Native.cString(p.get(ADDRESS, offset(PARAM, "name"))),
                    p.get(JAVA_DOUBLE, offset(PARAM, "default_value")), p.get(JAVA_DOUBLE, offset(PARAM, "min")),
                    p.get(JAVA_DOUBLE, offset(PARAM, "max")), p.get(JAVA_BOOLEAN, offset(PARAM, "integer"))));
        }
        this.params = Collections.unmodifiableList(list);
    }

    private static long offset(StructLayout layout, String field) {
        return layout.byteOffset(MemoryLayout.PathElement.groupElement(field));
    }

    private static List<String> strings(MemorySegment info, String array, String count) {
        long n = info.get(JAVA_LONG, offset(INFO, count));
        MemorySegment pointers = info.get(ADDRESS, offset(INFO, array)).reinterpret(n * ADDRESS.byteSize());
        List<String> out = new ArrayList<>();
        for (long i = 0; i < n; i++) {
            out.add(Native.cString(pointers.getAtIndex(ADDRESS, i)));
        }
        return Collections.unmodifiableList(out);
    }

    public String name() { return name; }
    public String group() { return group; }
    public String display() { return display; }
    public List<String> inputs() { return inputs; }
    public List<Param> params() { return params; }
    public List<String> outputs() { return outputs; }

    @Override
    public String toString() {
        return name + inputs + " -> " + outputs;
    }

    // ---- the catalog, read once -------------------------------------------------------------

    private static final class Catalog {
        static final List<Indicator> LIST;
        static final Map<String, Indicator> BY_NAME = new HashMap<>();

        static {
            List<Indicator> list = new ArrayList<>();
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment info = arena.allocate(INFO);
                long count = (long) Native.INDICATOR_COUNT.invokeExact();
                for (long i = 0; i < count; i++) {
                    Native.check((int) Native.INDICATOR_INFO.invokeExact(i, info));
                    Indicator indicator = new Indicator(i, info);
                    list.add(indicator);
                    BY_NAME.put(indicator.name, indicator);
                }
            } catch (Throwable t) {
                throw Native.rethrow(t);
            }
            LIST = Collections.unmodifiableList(list);
        }
    }

    static List<Indicator> all() {
        return Catalog.LIST;
    }

    /** The record called name; an unknown name is the core's PYRT_NOT_FOUND error. */
    static Indicator lookup(String name) {
        Indicator found = name == null ? null : Catalog.BY_NAME.get(name);
        if (found != null) {
            return found;
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment cName = Native.cString(arena, "name", name);
            MemorySegment index = arena.allocate(JAVA_LONG);
            Native.check((int) Native.INDICATOR_FIND.invokeExact(cName, index));
            return at(index.get(JAVA_LONG, 0));
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    static Indicator at(long index) {
        if (index < 0 || index >= Catalog.LIST.size()) {
            throw new PyrtException(PyrtException.NOT_FOUND, "indicator index " + index + " is not in the catalog");
        }
        return Catalog.LIST.get((int) index);
    }

    /** params laid out in the record's order, NaN ("default") where not given; NULL when none is given. */
    MemorySegment paramArray(Arena arena, Map<String, Double> given) {
        if (given == null || given.isEmpty()) {
            return MemorySegment.NULL;
        }
        return paramArray(arena.allocate(JAVA_DOUBLE, params.size()), given);
    }

    /** As above, into memory (room for one double per parameter). */
    MemorySegment paramArray(MemorySegment memory, Map<String, Double> given) {
        if (given == null || given.isEmpty()) {
            return MemorySegment.NULL;
        }
        MemorySegment values = memory.asSlice(0, (long) params.size() * Double.BYTES);
        for (int i = 0; i < params.size(); i++) {
            values.setAtIndex(JAVA_DOUBLE, i, Double.NaN);
        }
        for (Map.Entry<String, Double> e : given.entrySet()) {
            int i = paramIndex(e.getKey());
            if (i < 0) {
                TreeSet<String> names = new TreeSet<>();
                params.forEach(p -> names.add(p.name()));
                throw new PyrtException(PyrtException.INVALID_ARGUMENT, name + ": unknown parameter '" + e.getKey()
                        + "' (parameters: " + (names.isEmpty() ? "none" : String.join(", ", names)) + ")");
            }
            values.setAtIndex(JAVA_DOUBLE, i, e.getValue() == null ? Double.NaN : e.getValue());
        }
        return values;
    }

    int paramCount(Map<String, Double> given) {
        return given == null || given.isEmpty() ? 0 : params.size();
    }

    private int paramIndex(String key) {
        for (int i = 0; i < params.size(); i++) {
            if (params.get(i).name().equals(key)) {
                return i;
            }
        }
        return -1;
    }

    /** The common length of series, or an error naming the first that differs (the core sees one length). */
    int seriesLength(String what, double[][] series) {
        if (series == null) {
            throw new PyrtException(PyrtException.INVALID_ARGUMENT, name + ": " + what + " must not be null");
        }
        int n = -1;
        for (int i = 0; i < series.length; i++) {
            if (series[i] == null) {
                throw new PyrtException(PyrtException.INVALID_ARGUMENT, name + ": " + what + " " + inputName(i) + " is null");
            }
            if (n < 0) {
                n = series[i].length;
            } else if (series[i].length != n) {
                throw new PyrtException(PyrtException.INVALID_ARGUMENT, name + ": " + what + " " + inputName(i) + " has "
                        + series[i].length + " values but " + what + " " + inputName(0) + " has " + n);
            }
        }
        return Math.max(n, 0);
    }

    String inputName(int i) {
        return i < inputs.size() ? inputs.get(i) : "#" + i;
    }
}
