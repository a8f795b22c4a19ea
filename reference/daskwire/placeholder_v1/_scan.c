/* daskwire.placeholder_v1._scan: the placeholder-v1 codec's compiled fast path (see accel.py).
 *
 * Its one rule is "vouch or step aside": each function returns exactly what the exact, pure
 * Python path would, or NotImplemented / -1, and the caller then hands the input unchanged
 * to that path, which raises the categorized error or handles the rare form. Nothing here
 * decides an error category, so the spec's layer order (ER-3) is always the exact path's.
 *
 *   frames_ok  layer 1: flat byte frames within max_frames / max_frame_bytes /
 *              max_message_bytes (WF-2, WF-7);
 *   scan       a payload's bytes, without building any object (below);
 *   build      the message of a scanned payload, placeholders resolved (layers 4 to 6);
 *   decode     frames_ok, scan and build in one call;
 *   pack       frame 1 straight from the Python values, offloaded frames appended (CE-1..5);
 *   configure  the value types and the wire facts of the constants modules (one source).
 *
 * scan(data, max_depth, max_bin) vouches for a payload when every one of these holds:
 *   - exactly one msgpack value, with no bytes after it (PL-1), and it is a map or an array
 *     (PL-2);
 *   - no ext type (PL-9), no float32 (its width would be lost, PL-5), no byte 0xc1;
 *   - maps and arrays nest at most max_depth deep, counting containers inside keys (PL-11),
 *     and at most C_DEPTH_CAP deep (below);
 *   - every map key is str, bin, int, nil or an array of those (PL-6), written in the
 *     shortest form, and no two keys of one map are equal (PL-7): with shortest forms, equal
 *     bytes are equal values and different bytes are different values;
 *   - a map holding any reserved key (_$header, _$findex, _$fcount) holds exactly those three
 *     (PH-2), and no such map stands inside another one (PH-7); each is counted;
 *   - no bin is longer than max_bin (when max_bin >= 0): the encoder offloads those (HD-10).
 * UTF-8 validity of str is left to the builder, which steps aside on invalid UTF-8.
 *
 * Bad input is never trusted: every read is bounds-checked against the buffer, every length
 * against the bytes left before anything is allocated, and the keys being compared live on
 * the heap. Recursion costs C stack, so whatever max_depth allows, the C path vouches for at
 * most C_DEPTH_CAP levels of nesting (its deepest walk fits in 32 KiB of stack, the least a
 * Python thread can have) and steps aside for deeper input: the exact path's msgpack parser
 * keeps its own stack on the heap.
 *
 * Python code can run during these calls: an allocation can start a collection, and a
 * collection runs finalizers, which can reach any object (gc.get_objects()) and change it.
 * So no borrowed reference into a mutable object is used after a call that can allocate;
 * the frames are an own tuple whose buffers stay exported from the limit checks to their
 * last use, so that no finalizer can resize or release one in between; and the packer holds
 * each item while it packs it and checks the sizes of containers again.
 *
 * The configuration (configure()) lives in the module object's state (multi-phase init), so
 * each copy of the package in a process (a re-import, a sub-interpreter) has its own. It is
 * set once, after every argument is checked, and only for value types with the layout of the
 * package's frozen, slotted Offloaded and Materialized, whose slots build() writes directly.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#ifndef Py_T_OBJECT_EX /* before Python 3.12 */
#include <structmember.h>
#define Py_T_OBJECT_EX T_OBJECT_EX
#endif

#define MAX_DEPTH_CAP 1024 /* the max_depth arguments' bound; Limits.max_depth may not exceed it */
#define C_DEPTH_CAP 64     /* the deepest nesting this module walks (see above) */
#define SMALL_MAP 16
#define OFFLOAD_BASE 2 /* frames before the offload area: the small header and the payload */

/* Flags for where a value stands. */
#define IN_KEY 1

/* The wire facts this module needs come from the constants modules through configure(), so
 * they have one source: the reserved keys (PH-1), as shortest-form msgpack str tokens, the
 * header's transport keys (HD-1) and the width of a prelude integer (WF-1); and the value
 * types, with the offsets of their two slots. */
#define TOKEN_MAX 32 /* a fixstr: one marker byte and up to 31 bytes of UTF-8 */
enum { OFFLOADED, MATERIALIZED };

typedef struct {
    unsigned char tokens[3][TOKEN_MAX]; /* _$header, _$findex, _$fcount */
    size_t token_lens[3];
    Py_ssize_t longest; /* the longest reserved key, in characters */
    long long prelude_int_bytes;
    PyObject *types[2]; /* Offloaded, Materialized */
    Py_ssize_t header_at[2], frames_at[2]; /* their slots' offsets */
    PyObject *lengths, *compression, *count, *deserialize; /* the transport keys */
} Config;

typedef struct {
    int configured;
    Config c;
} State;

typedef struct {
    const unsigned char *start;
    size_t len;
} Span;

typedef struct {
    const unsigned char *p;
    const unsigned char *end;
    const Config *cf;
    Py_ssize_t max_depth;
    long long max_bin; /* < 0: no bin limit */
    Py_ssize_t placeholders;
    /* The keys of the maps being scanned, innermost map last: a stack on the heap, so wide
     * maps cost no C stack. Never more entries than the input has bytes. */
    Span *keys;
    size_t top;
    size_t cap;
} Scan;

/* max_depth as given to scan(), decode() and pack(): 0 to MAX_DEPTH_CAP, or -1 (error set). */
static Py_ssize_t parse_depth(PyObject *obj) {
    Py_ssize_t depth = PyLong_AsSsize_t(obj);
    if (depth == -1 && PyErr_Occurred()) {
        return -1;
    }
    if (depth < 0 || depth > MAX_DEPTH_CAP) {
        PyErr_Format(PyExc_ValueError, "max_depth must be in [0, %d]", MAX_DEPTH_CAP);
        return -1;
    }
    return depth;
}

/* The depth a walk vouches up to: max_depth, but no deeper than this module recurses. */
static inline Py_ssize_t walk_depth(Py_ssize_t max_depth) {
    return max_depth < C_DEPTH_CAP ? max_depth : C_DEPTH_CAP;
}

/* An own tuple of a list or tuple of frames (a new reference): code that runs later, such
 * as a collector's finalizer, cannot change it. NotImplemented for anything else; NULL on
 * error. */
static PyObject *own_frames(PyObject *obj) {
    if (PyTuple_CheckExact(obj)) {
        return Py_NewRef(obj);
    }
    if (PyList_CheckExact(obj)) {
        return PyList_AsTuple(obj);
    }
    return Py_NewRef(Py_NotImplemented);
}

/* The configuration of the module object `module`, or NULL (error set) before configure(). */
static const Config *config_of(PyObject *module) {
    State *st = (State *)PyModule_GetState(module);
    if (st == NULL) {
        return NULL;
    }
    if (!st->configured) {
        PyErr_SetString(PyExc_RuntimeError,
                        "daskwire.placeholder_v1._scan.configure() was not called");
        return NULL;
    }
    return &st->c;
}

/* Buffers of a message's frames, exported from the limit checks to the last use. */
#define FEW_FRAMES 8
typedef struct {
    Py_buffer *views; /* one per frame */
    Py_ssize_t held;
    Py_buffer few[FEW_FRAMES];
} Held;

static void release_frames(Held *h) {
    for (Py_ssize_t i = 0; i < h->held; i++) {
        PyBuffer_Release(&h->views[i]);
    }
    h->held = 0;
    if (h->views != h->few) {
        PyMem_Free(h->views);
    }
    h->views = NULL;
}

/* Exports a buffer of each of `count` frames into `h`, and holds them all: 1. When a frame
 * is not a flat byte frame (bytes, bytearray, or a memoryview of format 'B', one dimension,
 * C-contiguous and not released) nothing is held: 0. An error: -1, nothing held. While the
 * buffers are held a bytearray cannot be resized and a memoryview cannot be released. A
 * bytes frame cannot change at all: its view only points at it (no export, `obj` NULL), and
 * whoever holds the frames (a list during a call that runs no code, or an own tuple) keeps
 * it alive. */
static int hold_frames(PyObject *const *items, Py_ssize_t count, Held *h) {
    h->held = 0;
    h->views = count <= FEW_FRAMES ? h->few : PyMem_New(Py_buffer, (size_t)count);
    if (h->views == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    for (Py_ssize_t i = 0; i < count; i++) {
        PyObject *frame = items[i];
        Py_buffer *view = &h->views[i];
        if (PyBytes_CheckExact(frame)) {
            view->buf = PyBytes_AS_STRING(frame);
            view->len = PyBytes_GET_SIZE(frame);
            view->obj = NULL; /* PyBuffer_Release leaves it alone */
        } else if (PyByteArray_CheckExact(frame)) {
            if (PyObject_GetBuffer(frame, view, PyBUF_SIMPLE) < 0) {
                release_frames(h);
                return -1;
            }
        } else if (PyMemoryView_Check(frame)) {
            /* Asking for the buffer also refuses a released view. */
            if (PyObject_GetBuffer(frame, view, PyBUF_RECORDS_RO) < 0) {
                PyErr_Clear();
                release_frames(h);
                return 0;
            }
            /* C-contiguous as memoryview.c_contiguous says it, which the exact path asks:
             * one item, or a stride of one item. PyBuffer_IsContiguous also takes an empty
             * view of any stride, which the exact path refuses. */
            if (!(view->ndim == 1 && view->itemsize == 1 && view->format != NULL &&
                  strcmp(view->format, "B") == 0 &&
                  (view->strides == NULL || view->shape[0] == 1 || view->strides[0] == 1))) {
                PyBuffer_Release(view);
                release_frames(h);
                return 0;
            }
        } else {
            release_frames(h);
            return 0;
        }
        h->held++;
    }
    return 1;
}

/* 1 when `count` held frames are within the limits of layer 1 (WF-2, WF-7), counting the
 * prelude: the count and one length per frame (WF-1). */
static int within_limits(const Held *h, Py_ssize_t count, const long long limit[3],
                         long long prelude_int_bytes) {
    if (count < 2 || count > limit[0]) {
        return 0;
    }
    long long total = prelude_int_bytes * ((long long)count + 1);
    if (total > limit[2]) {
        return 0;
    }
    for (Py_ssize_t i = 0; i < count; i++) {
        Py_ssize_t size = h->views[i].len;
        if (size > limit[1] || size > limit[2] - total) {
            return 0;
        }
        total += size;
    }
    return 1;
}

#define BAIL (-1)

static inline size_t left(const Scan *s) { return (size_t)(s->end - s->p); }

static inline int take(Scan *s, uint64_t n, const unsigned char **out) {
    if ((uint64_t)left(s) < n) {
        return BAIL;
    }
    *out = s->p;
    s->p += (size_t)n;
    return 0;
}

static inline uint64_t be(const unsigned char *b, int n) {
    uint64_t v = 0;
    for (int i = 0; i < n; i++) {
        v = (v << 8) | b[i];
    }
    return v;
}

/* Reads an n-byte big-endian length or integer. */
static inline int read_uint(Scan *s, int n, uint64_t *out) {
    const unsigned char *b;
    if (take(s, (uint64_t)n, &b) < 0) {
        return BAIL;
    }
    *out = be(b, n);
    return 0;
}

static int value(Scan *s, Py_ssize_t depth, int flags);

static int reserved_index(const Config *cf, const Span *k) {
    for (int i = 0; i < 3; i++) {
        if (k->len == cf->token_lens[i] && memcmp(k->start, cf->tokens[i], k->len) == 0) {
            return i;
        }
    }
    return -1;
}

static int span_cmp(const void *a, const void *b) {
    const Span *x = (const Span *)a;
    const Span *y = (const Span *)b;
    if (x->len != y->len) {
        return x->len < y->len ? -1 : 1;
    }
    return memcmp(x->start, y->start, x->len);
}

static int array(Scan *s, uint64_t n, Py_ssize_t depth, int flags) {
    if (depth > s->max_depth || n > left(s)) { /* every element takes at least one byte */
        return BAIL;
    }
    for (uint64_t i = 0; i < n; i++) {
        if (value(s, depth, flags) < 0) {
            return BAIL;
        }
    }
    return 0;
}

static int push_key(Scan *s, const unsigned char *start, size_t len) {
    if (s->top == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 64;
        Span *grown = (Span *)PyMem_Realloc(s->keys, cap * sizeof(Span));
        if (grown == NULL) {
            return BAIL;
        }
        s->keys = grown;
        s->cap = cap;
    }
    s->keys[s->top].start = start;
    s->keys[s->top].len = len;
    s->top++;
    return 0;
}

static int map(Scan *s, uint64_t n, Py_ssize_t depth, int flags) {
    if (flags & IN_KEY) { /* a map is never a key, nor inside one (PL-6) */
        return BAIL;
    }
    if (depth > s->max_depth || n > left(s) / 2) { /* every entry takes at least two bytes */
        return BAIL;
    }
    size_t base = s->top;
    int reserved = 0; /* bit i set: reserved key i seen */
    Py_ssize_t before = s->placeholders;
    for (uint64_t i = 0; i < n; i++) {
        const unsigned char *start = s->p;
        if (value(s, depth, IN_KEY) < 0 || push_key(s, start, (size_t)(s->p - start)) < 0) {
            return BAIL;
        }
        const Span *key = &s->keys[s->top - 1];
        int r = reserved_index(s->cf, key);
        if (r >= 0) {
            reserved |= 1 << r;
        }
        if (n <= SMALL_MAP) {
            for (size_t j = base; j < s->top - 1; j++) {
                if (span_cmp(key, &s->keys[j]) == 0) {
                    return BAIL;
                }
            }
        }
        if (value(s, depth, 0) < 0) {
            return BAIL;
        }
    }
    if (n > SMALL_MAP) {
        qsort(s->keys + base, (size_t)n, sizeof(Span), span_cmp);
        for (size_t j = base + 1; j < s->top; j++) {
            if (span_cmp(&s->keys[j - 1], &s->keys[j]) == 0) {
                return BAIL;
            }
        }
    }
    s->top = base;
    if (reserved) {
        /* A placeholder: exactly the three reserved keys, and none inside it. */
        if (n != 3 || reserved != 7 || s->placeholders != before) {
            return BAIL;
        }
        s->placeholders++;
    }
    return 0;
}

/* Shortest-form checks, for keys only: msgpack-python's packer writes these forms. */
static inline int short_uint(int width, uint64_t v) {
    switch (width) {
    case 1: return v > 0x7f;
    case 2: return v > 0xff;
    case 4: return v > 0xffff;
    default: return v > 0xffffffffULL;
    }
}

static inline int short_int(int width, uint64_t raw) {
    int64_t v;
    switch (width) {
    case 1: v = (int8_t)raw; return v < -32;
    case 2: v = (int16_t)raw; return v < -128;
    case 4: v = (int32_t)raw; return v < -32768;
    default: v = (int64_t)raw; return v < -2147483648LL;
    }
}

static int value(Scan *s, Py_ssize_t depth, int flags) {
    const unsigned char *b;
    uint64_t n;
    if (take(s, 1, &b) < 0) {
        return BAIL;
    }
    unsigned char c = *b;
    int key = flags & IN_KEY;
    if (c <= 0x7f || c >= 0xe0 || c == 0xc0) { /* fixint, negative fixint, nil */
        return 0;
    }
    if (c <= 0x8f) {
        return map(s, c & 0x0f, depth + 1, flags);
    }
    if (c <= 0x9f) {
        return array(s, c & 0x0f, depth + 1, flags);
    }
    if (c <= 0xbf) {
        return take(s, c & 0x1f, &b);
    }
    switch (c) {
    case 0xc2: /* false */
    case 0xc3: /* true */
        return key ? BAIL : 0;
    case 0xc4: /* bin 8, 16, 32 */
    case 0xc5:
    case 0xc6: {
        int width = 1 << (c - 0xc4);
        if (read_uint(s, width, &n) < 0) {
            return BAIL;
        }
        if (key && width > 1 && !short_uint(width, n)) {
            return BAIL;
        }
        if (s->max_bin >= 0 && n > (uint64_t)s->max_bin) {
            return BAIL;
        }
        return take(s, n, &b);
    }
    case 0xcb: /* float 64 */
        return key ? BAIL : take(s, 8, &b);
    case 0xcc: /* uint 8, 16, 32, 64 */
    case 0xcd:
    case 0xce:
    case 0xcf: {
        int width = 1 << (c - 0xcc);
        if (read_uint(s, width, &n) < 0) {
            return BAIL;
        }
        return key && !short_uint(width, n) ? BAIL : 0;
    }
    case 0xd0: /* int 8, 16, 32, 64 */
    case 0xd1:
    case 0xd2:
    case 0xd3: {
        int width = 1 << (c - 0xd0);
        if (read_uint(s, width, &n) < 0) {
            return BAIL;
        }
        return key && !short_int(width, n) ? BAIL : 0;
    }
    case 0xd9: /* str 8, 16, 32 */
    case 0xda:
    case 0xdb: {
        int width = 1 << (c - 0xd9);
        if (read_uint(s, width, &n) < 0) {
            return BAIL;
        }
        if (key && !(width == 1 ? n > 31 : short_uint(width, n))) {
            return BAIL;
        }
        return take(s, n, &b);
    }
    case 0xdc: /* array 16, 32 */
    case 0xdd: {
        int width = c == 0xdc ? 2 : 4;
        if (read_uint(s, width, &n) < 0) {
            return BAIL;
        }
        if (key && !(width == 2 ? n > 15 : n > 0xffff)) {
            return BAIL;
        }
        return array(s, n, depth + 1, flags);
    }
    case 0xde: /* map 16, 32 */
    case 0xdf: {
        int width = c == 0xde ? 2 : 4;
        if (read_uint(s, width, &n) < 0) {
            return BAIL;
        }
        return map(s, n, depth + 1, flags);
    }
    default: /* 0xc1 (never used), ext 8/16/32, float 32, fixext 1..16 */
        return BAIL;
    }
}

/* ---- build: the message of a vouched payload, placeholders resolved ----------------------
 *
 * build(data, frames, consuming) reads a payload that scan() vouched for and returns the
 * message, with each placeholder replaced by Offloaded(header, frames) (forwarding) or by
 * Materialized(serializer header, frames) (consuming), exactly as the exact path would, after
 * the checks of layers 4 to 6 that apply: header transport keys (HD-2 .. HD-5), _$findex and
 * _$fcount (PH-3), count (PH-10), range (PH-6), overlap (PH-8), coverage (PH-9) and lengths
 * of uncompressed values (CP-11, CP-6). It returns NotImplemented, the "not vouched" answer,
 * for anything else: any failed check (the exact path then raises the right error), a value
 * a consuming receiver or a raw byte string (deserialize: true) must decompress or merge, a
 * str that is not UTF-8, nesting deeper than C_DEPTH_CAP, frames that are not flat byte
 * frames (frames_ok). */

typedef struct {
    const unsigned char *p;
    const unsigned char *end;
    const Config *cf;
    PyObject *frames;      /* a tuple of the message's frames, owned: nothing can change it */
    const Held *held;      /* their buffers, held: no frame can change size */
    unsigned char *claims; /* one per offload frame */
    Py_ssize_t n_offload;
    Py_ssize_t claimed;
    int consuming;
    int depth; /* of the container being built; bounded even without a prior scan() */
} Build;

/* NOT_VOUCHED: a sentinel return of the builders; never a live reference. */
#define NOT_VOUCHED Py_NotImplemented

static PyObject *build_value(Build *b);
static PyObject *b_map_entries(Build *b, uint64_t n);

static inline int b_take(Build *b, uint64_t n, const unsigned char **out) {
    if ((uint64_t)(b->end - b->p) < n) {
        return -1;
    }
    *out = b->p;
    b->p += (size_t)n;
    return 0;
}

static inline int b_uint(Build *b, int width, uint64_t *out) {
    const unsigned char *q;
    if (b_take(b, (uint64_t)width, &q) < 0) {
        return -1;
    }
    *out = be(q, width);
    return 0;
}

static PyObject *b_str(Build *b, uint64_t n) {
    const unsigned char *q;
    if (b_take(b, n, &q) < 0) {
        return NOT_VOUCHED;
    }
    PyObject *out = PyUnicode_DecodeUTF8((const char *)q, (Py_ssize_t)n, NULL);
    if (out == NULL && PyErr_ExceptionMatches(PyExc_UnicodeDecodeError)) {
        PyErr_Clear();
        return NOT_VOUCHED;
    }
    return out;
}

static PyObject *b_bin(Build *b, uint64_t n) {
    const unsigned char *q;
    if (b_take(b, n, &q) < 0) {
        return NOT_VOUCHED;
    }
    return PyBytes_FromStringAndSize((const char *)q, (Py_ssize_t)n);
}

static PyObject *b_array(Build *b, uint64_t n) {
    if (n > (uint64_t)(b->end - b->p) || b->depth >= C_DEPTH_CAP) {
        return NOT_VOUCHED;
    }
    PyObject *out = PyTuple_New((Py_ssize_t)n);
    if (out == NULL) {
        return NULL;
    }
    b->depth++;
    for (uint64_t i = 0; i < n; i++) {
        PyObject *item = build_value(b);
        if (item == NULL || item == NOT_VOUCHED) {
            b->depth--;
            Py_DECREF(out);
            return item;
        }
        PyTuple_SET_ITEM(out, (Py_ssize_t)i, item);
    }
    b->depth--;
    return out;
}

/* True when `obj` is an exact int (not a bool) that is >= 0; its value in *out. */
static int count_of(PyObject *obj, Py_ssize_t *out) {
    if (!PyLong_CheckExact(obj)) {
        return 0;
    }
    int overflow = 0;
    long long v = PyLong_AsLongLongAndOverflow(obj, &overflow);
    if (overflow > 0) {
        *out = PY_SSIZE_T_MAX; /* larger than any frame count: fails the range check */
        return 1;
    }
    if (overflow < 0 || v < 0) {
        return 0;
    }
    *out = v > PY_SSIZE_T_MAX ? PY_SSIZE_T_MAX : (Py_ssize_t)v;
    return 1;
}

/* A slot of a value of a configured type; configure() checked the offset. */
#define SLOT(obj, offset) (*(PyObject **)((char *)(obj) + (offset)))

/* A new Offloaded or Materialized (`which`) holding `header` and `frames`. Its slots are
 * written as object.__setattr__ writes them, past the frozen dataclass's __setattr__, and
 * without running a descriptor's code. */
static PyObject *make_value(const Config *cf, int which, PyObject *header, PyObject *frames) {
    PyTypeObject *type = (PyTypeObject *)cf->types[which];
    PyObject *obj = type->tp_alloc(type, 0); /* PyType_GenericAlloc: the slots are NULL */
    if (obj == NULL) {
        return NULL;
    }
    SLOT(obj, cf->header_at[which]) = Py_NewRef(header);
    SLOT(obj, cf->frames_at[which]) = Py_NewRef(frames);
    return obj;
}

/* A tuple of new memoryviews of `count` frames from offload frame `index` on. */
static PyObject *frame_views(const Build *b, Py_ssize_t index, Py_ssize_t count) {
    PyObject *views = PyTuple_New(count);
    if (views == NULL) {
        return NULL;
    }
    for (Py_ssize_t i = 0; i < count; i++) {
        PyObject *view =
            PyMemoryView_FromObject(PyTuple_GET_ITEM(b->frames, OFFLOAD_BASE + index + i));
        if (view == NULL) {
            Py_DECREF(views);
            return NULL;
        }
        PyTuple_SET_ITEM(views, i, view);
    }
    return views;
}

/* The placeholder whose three values are built: checks, claims, and its value.
 *
 * Every check that reads the header's values comes first, and none of them allocates: the
 * values are borrowed from the header, which a finalizer could empty. The first allocation
 * (the views) can run one, so after it only `header` itself is used, which the caller owns.
 * The frames' sizes come from their held buffers, which no finalizer can change. */
static PyObject *resolve(Build *b, PyObject *header, PyObject *findex, PyObject *fcount) {
    const Config *cf = b->cf;
    Py_ssize_t index, fc, count;
    if (!PyDict_CheckExact(header) || !count_of(findex, &index) || !count_of(fcount, &fc)) {
        return NOT_VOUCHED; /* PH-3 */
    }
    PyObject *c = PyDict_GetItemWithError(header, cf->count);
    if (c == NULL || !count_of(c, &count)) {
        return PyErr_Occurred() ? NULL : NOT_VOUCHED; /* HD-2 */
    }
    PyObject *des = PyDict_GetItemWithError(header, cf->deserialize);
    if (des != Py_False && des != Py_True) {
        return PyErr_Occurred() ? NULL : NOT_VOUCHED; /* HD-3 */
    }
    int raw = des == Py_True; /* a raw byte string, materialised by every receiver (HD-9) */
    PyObject *lengths = PyDict_GetItemWithError(header, cf->lengths);
    if (lengths == NULL || !PyTuple_CheckExact(lengths)) {
        return PyErr_Occurred() ? NULL : NOT_VOUCHED; /* HD-4 */
    }
    Py_ssize_t n_lengths = PyTuple_GET_SIZE(lengths);
    long long total = 0;
    for (Py_ssize_t i = 0; i < n_lengths; i++) {
        Py_ssize_t n;
        if (!count_of(PyTuple_GET_ITEM(lengths, i), &n)) {
            return NOT_VOUCHED; /* HD-4 */
        }
        if (n > LLONG_MAX - total) {
            return NOT_VOUCHED; /* cannot add up to any frames' size */
        }
        total += n;
    }
    int compressed = 0;
    PyObject *codecs = PyDict_GetItemWithError(header, cf->compression);
    if (codecs == NULL && PyErr_Occurred()) {
        return NULL;
    }
    if (codecs != NULL) {
        if (!PyTuple_CheckExact(codecs) || PyTuple_GET_SIZE(codecs) != count) {
            return NOT_VOUCHED; /* HD-5 */
        }
        for (Py_ssize_t i = 0; i < count; i++) {
            PyObject *codec = PyTuple_GET_ITEM(codecs, i);
            if (codec != Py_None) {
                if (!PyUnicode_CheckExact(codec)) {
                    return NOT_VOUCHED; /* HD-5 */
                }
                compressed = 1;
            }
        }
    }
    if (count != fc) {
        return NOT_VOUCHED; /* PH-10 */
    }
    if (index > b->n_offload || count > b->n_offload - index) {
        return NOT_VOUCHED; /* PH-6 */
    }
    for (Py_ssize_t i = index; i < index + count; i++) {
        if (b->claims[i]) {
            return NOT_VOUCHED; /* PH-8 */
        }
        b->claims[i] = 1;
    }
    b->claimed += count;
    if (compressed && (b->consuming || raw)) {
        return NOT_VOUCHED; /* decompressing is the Python paths' work */
    }
    const Py_buffer *sizes = b->held->views + OFFLOAD_BASE + index;
    long long size = 0;
    int same = n_lengths == count; /* consuming: lengths are exactly the frames' sizes */
    for (Py_ssize_t i = 0; i < count; i++) {
        size += sizes[i].len;
        Py_ssize_t length = 0;
        if (same && (!count_of(PyTuple_GET_ITEM(lengths, i), &length) || length != sizes[i].len)) {
            same = 0;
        }
    }
    if (!compressed && total != size) {
        return NOT_VOUCHED; /* CP-11 (and CP-6 for a consuming receiver) */
    }
    if (raw) {
        /* One whole frame is the value itself; anything to decompress or join is not ours. */
        if (count != 1 || !same) {
            return NOT_VOUCHED;
        }
        return PyMemoryView_FromObject(PyTuple_GET_ITEM(b->frames, OFFLOAD_BASE + index));
    }
    if (b->consuming && !same) {
        return NOT_VOUCHED; /* frames to merge (CP-6): the Python paths do it */
    }
    /* The header's values are not read from here on (see above). */
    PyObject *views = frame_views(b, index, count);
    if (views == NULL) {
        return NULL;
    }
    PyObject *out;
    if (!b->consuming) {
        out = make_value(cf, OFFLOADED, header, views);
    } else {
        PyObject *serializer = PyDict_Copy(header);
        if (serializer == NULL) {
            Py_DECREF(views);
            return NULL;
        }
        PyObject *keys[] = {cf->count, cf->deserialize, cf->lengths, cf->compression};
        for (int i = 0; i < 4; i++) {
            int has = PyDict_Contains(serializer, keys[i]);
            if (has < 0 || (has == 1 && PyDict_DelItem(serializer, keys[i]) < 0)) {
                Py_DECREF(serializer);
                Py_DECREF(views);
                return NULL;
            }
        }
        out = make_value(cf, MATERIALIZED, serializer, views);
        Py_DECREF(serializer);
    }
    Py_DECREF(views);
    return out;
}

/* Which reserved key a key token is, or -1 (the tokens are shortest-form, as scan() checked). */
static int reserved_token(const Config *cf, const unsigned char *p, const unsigned char *end) {
    for (int i = 0; i < 3; i++) {
        if ((size_t)(end - p) >= cf->token_lens[i] &&
            memcmp(p, cf->tokens[i], cf->token_lens[i]) == 0) {
            return i;
        }
    }
    return -1;
}

static PyObject *b_map(Build *b, uint64_t n) {
    if (n > (uint64_t)(b->end - b->p) / 2 || b->depth >= C_DEPTH_CAP) {
        return NOT_VOUCHED;
    }
    b->depth++;
    PyObject *built = b_map_entries(b, n);
    b->depth--;
    return built;
}

static PyObject *b_map_entries(Build *b, uint64_t n) {
    if (n == 3 && reserved_token(b->cf, b->p, b->end) >= 0) {
        /* A placeholder (scan() checked its shape): its three values, in any key order. */
        PyObject *parts[3] = {NULL, NULL, NULL};
        PyObject *out = NOT_VOUCHED;
        for (int i = 0; i < 3; i++) {
            int r = reserved_token(b->cf, b->p, b->end);
            if (r < 0 || parts[r] != NULL) {
                goto done;
            }
            b->p += b->cf->token_lens[r];
            PyObject *item = build_value(b);
            if (item == NULL || item == NOT_VOUCHED) {
                out = item;
                goto done;
            }
            parts[r] = item;
        }
        out = resolve(b, parts[0], parts[1], parts[2]);
    done:
        for (int i = 0; i < 3; i++) {
            Py_XDECREF(parts[i]);
        }
        return out;
    }
    PyObject *out = PyDict_New();
    if (out == NULL) {
        return NULL;
    }
    for (uint64_t i = 0; i < n; i++) {
        PyObject *key = build_value(b);
        if (key == NULL || key == NOT_VOUCHED) {
            Py_DECREF(out);
            return key;
        }
        PyObject *item = build_value(b);
        if (item == NULL || item == NOT_VOUCHED) {
            Py_DECREF(key);
            Py_DECREF(out);
            return item;
        }
        int status = PyDict_SetItem(out, key, item);
        Py_DECREF(key);
        Py_DECREF(item);
        if (status < 0) {
            Py_DECREF(out);
            return NULL;
        }
    }
    if ((uint64_t)PyDict_GET_SIZE(out) != n) { /* keys that repeat: scan() rules it out */
        Py_DECREF(out);
        return NOT_VOUCHED;
    }
    return out;
}

static PyObject *build_value(Build *b) {
    const unsigned char *q;
    uint64_t n;
    if (b_take(b, 1, &q) < 0) {
        return NOT_VOUCHED;
    }
    unsigned char c = *q;
    if (c <= 0x7f) {
        return PyLong_FromLong(c);
    }
    if (c >= 0xe0) {
        return PyLong_FromLong((long)(signed char)c);
    }
    if (c <= 0x8f) {
        return b_map(b, c & 0x0f);
    }
    if (c <= 0x9f) {
        return b_array(b, c & 0x0f);
    }
    if (c <= 0xbf) {
        return b_str(b, c & 0x1f);
    }
    switch (c) {
    case 0xc0:
        Py_RETURN_NONE;
    case 0xc2:
        Py_RETURN_FALSE;
    case 0xc3:
        Py_RETURN_TRUE;
    case 0xc4:
    case 0xc5:
    case 0xc6:
        if (b_uint(b, 1 << (c - 0xc4), &n) < 0) {
            return NOT_VOUCHED;
        }
        return b_bin(b, n);
    case 0xcb: {
        if (b_uint(b, 8, &n) < 0) {
            return NOT_VOUCHED;
        }
        double d;
        memcpy(&d, &n, sizeof d);
        return PyFloat_FromDouble(d);
    }
    case 0xcc:
    case 0xcd:
    case 0xce:
    case 0xcf:
        if (b_uint(b, 1 << (c - 0xcc), &n) < 0) {
            return NOT_VOUCHED;
        }
        return PyLong_FromUnsignedLongLong(n);
    case 0xd0:
    case 0xd1:
    case 0xd2:
    case 0xd3: {
        int width = 1 << (c - 0xd0);
        if (b_uint(b, width, &n) < 0) {
            return NOT_VOUCHED;
        }
        long long v = width == 1   ? (int8_t)n
                      : width == 2 ? (int16_t)n
                      : width == 4 ? (int32_t)n
                                   : (int64_t)n;
        return PyLong_FromLongLong(v);
    }
    case 0xd9:
    case 0xda:
    case 0xdb:
        if (b_uint(b, 1 << (c - 0xd9), &n) < 0) {
            return NOT_VOUCHED;
        }
        return b_str(b, n);
    case 0xdc:
    case 0xdd:
        if (b_uint(b, c == 0xdc ? 2 : 4, &n) < 0) {
            return NOT_VOUCHED;
        }
        return b_array(b, n);
    case 0xde:
    case 0xdf:
        if (b_uint(b, c == 0xde ? 2 : 4, &n) < 0) {
            return NOT_VOUCHED;
        }
        return b_map(b, n);
    default: /* scan() vouches for no other token */
        return NOT_VOUCHED;
    }
}

PyDoc_STRVAR(build_doc,
             "build(data, frames, consuming, /) -> message or NotImplemented\n\n"
             "The message of a payload scan() vouched for, placeholders resolved; the frames\n"
             "must pass frames_ok(). NotImplemented when the Python paths must decide.");

/* The message of the payload `body` (a held buffer of frame 1 or of its decompressed bytes),
 * for the frames `frames` whose buffers `held` holds; NotImplemented when not vouched for. */
static PyObject *build_held(const Config *cf, const Py_buffer *body, PyObject *frames,
                            const Held *held, int consuming) {
    Py_ssize_t n_offload = PyTuple_GET_SIZE(frames) - OFFLOAD_BASE;
    unsigned char *claims = (unsigned char *)PyMem_Calloc((size_t)n_offload + 1, 1);
    if (claims == NULL) {
        return PyErr_NoMemory();
    }
    Build b = {(const unsigned char *)body->buf,
               (const unsigned char *)body->buf + body->len,
               cf,
               frames,
               held,
               claims,
               n_offload,
               0,
               consuming,
               0};
    PyObject *out = build_value(&b);
    if (out != NULL && out != NOT_VOUCHED &&
        (b.p != b.end || b.claimed != n_offload ||
         !(PyDict_CheckExact(out) || PyTuple_CheckExact(out)))) {
        Py_DECREF(out); /* PL-1, PH-9, PL-2 / PH-7: the Python paths report those */
        out = NOT_VOUCHED;
    }
    PyMem_Free(claims);
    if (out == NOT_VOUCHED) {
        Py_RETURN_NOTIMPLEMENTED;
    }
    return out;
}

static PyObject *build(PyObject *module, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 3) {
        PyErr_SetString(PyExc_TypeError, "build() takes exactly 3 arguments");
        return NULL;
    }
    const Config *cf = config_of(module);
    if (cf == NULL) {
        return NULL;
    }
    int consuming = PyObject_IsTrue(args[2]);
    if (consuming < 0) {
        return NULL;
    }
    PyObject *frames = own_frames(args[1]);
    if (frames == NULL || frames == Py_NotImplemented) {
        return frames;
    }
    PyObject *out = Py_NotImplemented;
    Held held;
    int status = PyTuple_GET_SIZE(frames) < OFFLOAD_BASE
                     ? 0
                     : hold_frames(&PyTuple_GET_ITEM(frames, 0), PyTuple_GET_SIZE(frames), &held);
    if (status <= 0) {
        Py_DECREF(frames);
        return status < 0 ? NULL : Py_NewRef(out);
    }
    Py_buffer view;
    if (PyObject_GetBuffer(args[0], &view, PyBUF_SIMPLE) < 0) {
        out = NULL;
    } else {
        out = build_held(cf, &view, frames, &held, consuming);
        PyBuffer_Release(&view);
    }
    release_frames(&held);
    Py_DECREF(frames);
    return out;
}

/* The layout of the package's value types, frozen and slotted dataclasses with the slots
 * `header` and `frames` and nothing else: 1, with the slots' offsets; 0 for anything else.
 * build() writes those slots directly, so a type without this layout is refused. */
static int value_layout(PyObject *obj, Py_ssize_t *header_at, Py_ssize_t *frames_at) {
    if (!PyType_Check(obj)) {
        return 0;
    }
    PyTypeObject *type = (PyTypeObject *)obj;
    Py_ssize_t size = (Py_ssize_t)(sizeof(PyObject) + 2 * sizeof(PyObject *));
    if (!(type->tp_flags & Py_TPFLAGS_HEAPTYPE) || type->tp_base != &PyBaseObject_Type ||
        type->tp_basicsize != size || type->tp_itemsize != 0 || type->tp_dictoffset != 0 ||
        type->tp_weaklistoffset != 0 || type->tp_alloc != PyType_GenericAlloc ||
        type->tp_dict == NULL) {
        return 0;
    }
    const char *names[2] = {"header", "frames"};
    Py_ssize_t *offsets[2] = {header_at, frames_at};
    for (int i = 0; i < 2; i++) {
        PyObject *slot = PyDict_GetItemString(type->tp_dict, names[i]);
        if (slot == NULL || !Py_IS_TYPE(slot, &PyMemberDescr_Type) ||
            PyDescr_TYPE(slot) != type) {
            return 0;
        }
        const PyMemberDef *member = ((PyMemberDescrObject *)slot)->d_member;
        if (member->type != Py_T_OBJECT_EX || member->offset < (Py_ssize_t)sizeof(PyObject) ||
            member->offset > size - (Py_ssize_t)sizeof(PyObject *) ||
            member->offset % (Py_ssize_t)sizeof(PyObject *) != 0) {
            return 0;
        }
        *offsets[i] = member->offset;
    }
    return *header_at != *frames_at;
}

/* 1 when two configurations are the same. */
static int same_config(const Config *a, const Config *b) {
    if (a->types[0] != b->types[0] || a->types[1] != b->types[1] ||
        a->prelude_int_bytes != b->prelude_int_bytes ||
        memcmp(a->tokens, b->tokens, sizeof a->tokens) != 0 ||
        memcmp(a->token_lens, b->token_lens, sizeof a->token_lens) != 0) {
        return 0;
    }
    PyObject *const x[4] = {a->lengths, a->compression, a->count, a->deserialize};
    PyObject *const y[4] = {b->lengths, b->compression, b->count, b->deserialize};
    for (int i = 0; i < 4; i++) {
        if (PyUnicode_Compare(x[i], y[i]) != 0) {
            return 0;
        }
    }
    return 1;
}

PyDoc_STRVAR(configure_doc,
             "configure(offloaded_type, materialized_type, reserved_keys, transport_keys,\n"
             "          prelude_int_bytes, /) -> None\n\n"
             "The value types build() makes and the wire facts of the constants modules:\n"
             "RESERVED_KEYS, TRANSPORT_KEYS (lengths, compression, count, deserialize) and\n"
             "PRELUDE_INT_BYTES. Called by daskwire.placeholder_v1.accel, before any other\n"
             "function. The types must have the layout of daskwire's Offloaded and\n"
             "Materialized. Every argument is checked before anything is set; a module\n"
             "object is configured once, and a later call with other values raises\n"
             "RuntimeError.");

static PyObject *configure(PyObject *module, PyObject *const *args, Py_ssize_t nargs) {
    State *st = (State *)PyModule_GetState(module);
    if (st == NULL) {
        return NULL;
    }
    if (nargs != 5 || !PyTuple_CheckExact(args[2]) || PyTuple_GET_SIZE(args[2]) != 3 ||
        !PyTuple_CheckExact(args[3]) || PyTuple_GET_SIZE(args[3]) != 4) {
        PyErr_SetString(PyExc_TypeError,
                        "configure() takes two types, three reserved keys, four transport "
                        "keys and the prelude integer width");
        return NULL;
    }
    /* Everything is checked into `c` first; the module's state changes in one step. */
    Config c;
    memset(&c, 0, sizeof c);
    for (int i = 0; i < 2; i++) {
        if (!value_layout(args[i], &c.header_at[i], &c.frames_at[i])) {
            PyErr_SetString(PyExc_TypeError,
                            "configure() takes daskwire's value types: frozen dataclasses "
                            "with the slots header and frames and nothing else");
            return NULL;
        }
        c.types[i] = args[i];
    }
    if (c.types[OFFLOADED] == c.types[MATERIALIZED]) {
        PyErr_SetString(PyExc_TypeError, "configure() takes two different value types");
        return NULL;
    }
    long long width = PyLong_AsLongLong(args[4]);
    if (width == -1 && PyErr_Occurred()) {
        return NULL;
    }
    if (width < 1 || width > 8) {
        PyErr_SetString(PyExc_ValueError, "the prelude integer width is 1 to 8 bytes");
        return NULL;
    }
    c.prelude_int_bytes = width;
    for (int i = 0; i < 3; i++) {
        PyObject *key = PyTuple_GET_ITEM(args[2], i);
        Py_ssize_t n;
        const char *text = PyUnicode_CheckExact(key) ? PyUnicode_AsUTF8AndSize(key, &n) : NULL;
        if (text == NULL || n >= TOKEN_MAX) {
            PyErr_Clear();
            PyErr_SetString(PyExc_ValueError, "a reserved key must be a str of under 32 bytes");
            return NULL;
        }
        c.tokens[i][0] = (unsigned char)(0xa0 | n); /* fixstr */
        memcpy(c.tokens[i] + 1, text, (size_t)n);
        c.token_lens[i] = (size_t)n + 1;
        for (int j = 0; j < i; j++) {
            if (c.token_lens[j] == c.token_lens[i] &&
                memcmp(c.tokens[j], c.tokens[i], c.token_lens[i]) == 0) {
                PyErr_SetString(PyExc_ValueError, "the reserved keys must differ");
                return NULL;
            }
        }
        if (PyUnicode_GET_LENGTH(key) > c.longest) {
            c.longest = PyUnicode_GET_LENGTH(key);
        }
    }
    PyObject **keys[4] = {&c.lengths, &c.compression, &c.count, &c.deserialize};
    for (int i = 0; i < 4; i++) {
        PyObject *key = PyTuple_GET_ITEM(args[3], i);
        if (!PyUnicode_CheckExact(key)) {
            PyErr_SetString(PyExc_TypeError, "transport keys are str");
            return NULL;
        }
        *keys[i] = key; /* borrowed until the swap below */
    }
    if (st->configured) {
        /* Code that runs during a call (a finalizer) must not change what the call uses, so
         * the configuration is never replaced; repeating it is harmless. */
        if (same_config(&st->c, &c)) {
            Py_RETURN_NONE;
        }
        PyErr_SetString(PyExc_RuntimeError,
                        "daskwire.placeholder_v1._scan is configured already, with other "
                        "values; a module object is configured once (each copy of the "
                        "package has its own)");
        return NULL;
    }
    PyObject *refs[6] = {c.types[0], c.types[1], c.lengths, c.compression, c.count,
                         c.deserialize};
    for (int i = 0; i < 6; i++) {
        Py_INCREF(refs[i]);
    }
    st->c = c;
    st->configured = 1;
    Py_RETURN_NONE;
}

/* ---- pack: frame 1 of a message, straight from its Python values ----------------------
 *
 * pack(message, frames, max_depth, shard_size, threshold, materialize) writes frame 1 in
 * the canonical encoding (CE-1 .. CE-5) and appends the offloaded values' frames to the list
 * `frames`, in pre-order (CE-3). It returns the bytes, or NotImplemented when the exact walk
 * must decide: any value outside the exact types of the value model, a key outside PL-6 or
 * a reserved key (PH-11), nesting past max_depth (PL-11), an int outside msgpack (CE-11), a
 * bin over `threshold` outside a header (the walk offloads it, HD-10), an offloaded value in
 * a header, an Offloaded header the walk would refuse (CE-12), or a Materialized value that
 * needs splitting, compressing (materialize false) or has transport keys (CE-13), and
 * nesting deeper than C_DEPTH_CAP. The bytes are those msgpack-python's packer writes for
 * the walked tree, byte for byte.
 *
 * Python code can run while packing: the frame tuple of a raw byte string (pack_raw) is an
 * allocation, which can start a collection, whose finalizers can change the containers
 * being packed. So each item is held while it is packed, a list's size is checked before
 * each item and a dict's after its entries, and a change steps aside. */

typedef struct {
    unsigned char *buf;
    size_t len;
    size_t cap;
    const Config *cf;
    PyObject *frames;
    Py_ssize_t max_depth;
    Py_ssize_t shard_size;
    Py_ssize_t threshold;
    int materialize;
} Pack;

#define PACK_BAIL 1 /* not vouched for; -1 is a Python error */

static int reserve(Pack *k, size_t n) {
    if (k->cap - k->len >= n) {
        return 0;
    }
    size_t cap = k->cap ? k->cap : 256;
    while (cap - k->len < n) {
        if (cap > PY_SSIZE_T_MAX / 2) {
            PyErr_NoMemory();
            return -1;
        }
        cap *= 2;
    }
    unsigned char *grown = (unsigned char *)PyMem_Realloc(k->buf, cap);
    if (grown == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    k->buf = grown;
    k->cap = cap;
    return 0;
}

static int put(Pack *k, const void *data, size_t n) {
    if (reserve(k, n) < 0) {
        return -1;
    }
    memcpy(k->buf + k->len, data, n);
    k->len += n;
    return 0;
}

/* A marker byte followed by `width` big-endian bytes of v (width 0: the marker only). */
static int put_head(Pack *k, unsigned char marker, int width, uint64_t v) {
    unsigned char head[9];
    head[0] = marker;
    for (int i = 0; i < width; i++) {
        head[1 + i] = (unsigned char)(v >> (8 * (width - 1 - i)));
    }
    return put(k, head, (size_t)(1 + width));
}

/* fix / 8 / 16 / 32 length heads, as msgpack-python writes them. */
static int put_len(Pack *k, uint64_t n, unsigned char fix, uint64_t fix_max, unsigned char m8,
                   unsigned char m16, unsigned char m32) {
    if (n <= fix_max && fix) {
        return put_head(k, (unsigned char)(fix | n), 0, 0);
    }
    if (n < 256 && m8) {
        return put_head(k, m8, 1, n);
    }
    if (n < 65536) {
        return put_head(k, m16, 2, n);
    }
    if (n <= 0xffffffffULL) {
        return put_head(k, m32, 4, n);
    }
    return PACK_BAIL;
}

static int put_map_len(Pack *k, uint64_t n) { return put_len(k, n, 0x80, 15, 0, 0xde, 0xdf); }
static int put_array_len(Pack *k, uint64_t n) { return put_len(k, n, 0x90, 15, 0, 0xdc, 0xdd); }

static int put_uint(Pack *k, uint64_t v) {
    if (v < 128) {
        return put_head(k, (unsigned char)v, 0, 0);
    }
    if (v < 256) {
        return put_head(k, 0xcc, 1, v);
    }
    if (v < 65536) {
        return put_head(k, 0xcd, 2, v);
    }
    if (v <= 0xffffffffULL) {
        return put_head(k, 0xce, 4, v);
    }
    return put_head(k, 0xcf, 8, v);
}

static int put_int(Pack *k, PyObject *obj) {
    int overflow = 0;
    long long v = PyLong_AsLongLongAndOverflow(obj, &overflow);
    if (v == -1 && PyErr_Occurred()) {
        return -1;
    }
    if (overflow > 0) {
        unsigned long long u = PyLong_AsUnsignedLongLong(obj);
        if (u == (unsigned long long)-1 && PyErr_Occurred()) {
            PyErr_Clear();
            return PACK_BAIL; /* past 2**64 - 1 (CE-11) */
        }
        return put_uint(k, u);
    }
    if (overflow < 0) {
        return PACK_BAIL; /* below -2**63 (CE-11) */
    }
    if (v >= 0) {
        return put_uint(k, (uint64_t)v);
    }
    if (v >= -32) {
        return put_head(k, (unsigned char)(int8_t)v, 0, 0);
    }
    if (v >= -128) {
        return put_head(k, 0xd0, 1, (uint64_t)v);
    }
    if (v >= -32768) {
        return put_head(k, 0xd1, 2, (uint64_t)v);
    }
    if (v >= -2147483648LL) {
        return put_head(k, 0xd2, 4, (uint64_t)v);
    }
    return put_head(k, 0xd3, 8, (uint64_t)v);
}

static int put_str(Pack *k, PyObject *obj) {
    Py_ssize_t n;
    const char *text = PyUnicode_AsUTF8AndSize(obj, &n);
    if (text == NULL) {
        if (PyErr_ExceptionMatches(PyExc_UnicodeEncodeError)) {
            PyErr_Clear();
            return PACK_BAIL; /* a lone surrogate (CE-11) */
        }
        return -1;
    }
    int status = put_len(k, (uint64_t)n, 0xa0, 31, 0xd9, 0xda, 0xdb);
    return status ? status : put(k, text, (size_t)n);
}

static int put_bin(Pack *k, const void *data, Py_ssize_t n) {
    int status = put_len(k, (uint64_t)n, 0, 0, 0xc4, 0xc5, 0xc6);
    return status ? status : put(k, data, (size_t)n);
}

/* The size of a flat frame, or -1 (with no error set) when it is not one. */
static Py_ssize_t frame_size(PyObject *frame) {
    if (PyBytes_CheckExact(frame)) {
        return PyBytes_GET_SIZE(frame);
    }
    if (PyByteArray_CheckExact(frame)) {
        return PyByteArray_GET_SIZE(frame);
    }
    Py_buffer view;
    if (!PyMemoryView_Check(frame) || PyObject_GetBuffer(frame, &view, PyBUF_ND) < 0) {
        PyErr_Clear();
        return -1;
    }
    Py_ssize_t n = view.len;
    PyBuffer_Release(&view); /* PyBUF_ND: C-contiguous, or the request fails */
    return n;
}

static int pack_obj(Pack *k, PyObject *obj, Py_ssize_t depth, int in_header);

static int is_reserved_str(const Config *cf, PyObject *key) {
    Py_ssize_t n;
    const char *text = PyUnicode_AsUTF8AndSize(key, &n);
    if (text == NULL) {
        PyErr_Clear();
        return 0; /* packing the key bails on it */
    }
    for (int i = 0; i < 3; i++) {
        if ((size_t)n + 1 == cf->token_lens[i] && memcmp(text, cf->tokens[i] + 1, n) == 0) {
            return 1;
        }
    }
    return 0;
}

/* A map key (PL-6): str, bytes, int, None or tuples of those; a tuple at `depth` counts
 * against max_depth as the decoder counts it (PL-11). */
static int pack_key(Pack *k, PyObject *key, Py_ssize_t depth) {
    if (PyUnicode_CheckExact(key)) {
        return put_str(k, key);
    }
    if (PyLong_CheckExact(key)) {
        return put_int(k, key);
    }
    if (PyBytes_CheckExact(key)) {
        return put_bin(k, PyBytes_AS_STRING(key), PyBytes_GET_SIZE(key));
    }
    if (key == Py_None) {
        return put_head(k, 0xc0, 0, 0);
    }
    if (PyTuple_CheckExact(key) && depth <= k->max_depth) {
        Py_ssize_t n = PyTuple_GET_SIZE(key);
        int status = put_array_len(k, (uint64_t)n);
        for (Py_ssize_t i = 0; i < n && status == 0; i++) {
            status = pack_key(k, PyTuple_GET_ITEM(key, i), depth + 1);
        }
        return status;
    }
    return PACK_BAIL;
}

static int pack_dict(Pack *k, PyObject *dict, Py_ssize_t depth, int in_header,
                     Py_ssize_t extra) {
    if (depth > k->max_depth) {
        return PACK_BAIL;
    }
    Py_ssize_t size = PyDict_GET_SIZE(dict);
    int status = put_map_len(k, (uint64_t)(size + extra));
    PyObject *key, *item;
    Py_ssize_t pos = 0, written = 0;
    while (status == 0 && PyDict_Next(dict, &pos, &key, &item)) {
        written++;
        if (PyUnicode_CheckExact(key) && PyUnicode_GET_LENGTH(key) <= k->cf->longest &&
            is_reserved_str(k->cf, key)) {
            return PACK_BAIL; /* PH-11 */
        }
        Py_INCREF(key);
        Py_INCREF(item);
        status = pack_key(k, key, depth + 1);
        if (status == 0) {
            status = pack_obj(k, item, depth + 1, in_header);
        }
        Py_DECREF(key);
        Py_DECREF(item);
    }
    /* A finalizer may have changed the dict while its entries were packed (see above). */
    return status == 0 && (written != size || PyDict_GET_SIZE(dict) != size) ? PACK_BAIL
                                                                             : status;
}

/* 1 when every key of `header` is an exact str, int, bytes, None or tuple of those: then
 * looking keys up in it runs no Python code (no __eq__ or __hash__ of the caller's). */
static int plain_key(PyObject *key, int level) {
    if (PyUnicode_CheckExact(key) || PyLong_CheckExact(key) || PyBytes_CheckExact(key) ||
        key == Py_None) {
        return 1;
    }
    if (!PyTuple_CheckExact(key) || level > C_DEPTH_CAP) {
        return 0;
    }
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(key); i++) {
        if (!plain_key(PyTuple_GET_ITEM(key, i), level + 1)) {
            return 0;
        }
    }
    return 1;
}

static int plain_keys(PyObject *header) {
    PyObject *key, *item;
    Py_ssize_t pos = 0;
    while (PyDict_Next(header, &pos, &key, &item)) {
        if (!plain_key(key, 0)) {
            return 0;
        }
    }
    return 1;
}

/* An array of the frames' sizes, as the header's `lengths`. */
static int put_sizes(Pack *k, PyObject *frames, Py_ssize_t depth) {
    if (depth > k->max_depth) {
        return PACK_BAIL;
    }
    Py_ssize_t n = PyTuple_GET_SIZE(frames);
    int status = put_array_len(k, (uint64_t)n);
    for (Py_ssize_t i = 0; i < n && status == 0; i++) {
        Py_ssize_t size = frame_size(PyTuple_GET_ITEM(frames, i));
        status = size < 0 ? PACK_BAIL : put_uint(k, (uint64_t)size);
    }
    return status;
}

static int append_frames(Pack *k, PyObject *frames) {
    Py_ssize_t n = PyTuple_GET_SIZE(frames);
    for (Py_ssize_t i = 0; i < n; i++) {
        if (PyList_Append(k->frames, PyTuple_GET_ITEM(frames, i)) < 0) {
            return -1;
        }
    }
    return 0;
}

/* The placeholder's first two keys' worth: the map head and `_$header`. */
static int placeholder_head(Pack *k) {
    int status = put_head(k, 0x83, 0, 0);
    return status ? status : put(k, k->cf->tokens[0], k->cf->token_lens[0]);
}

/* `_$findex` and `_$fcount`, closing the placeholder. */
static int placeholder_tail(Pack *k, Py_ssize_t index, Py_ssize_t count) {
    int status = put(k, k->cf->tokens[1], k->cf->token_lens[1]);
    if (status == 0) {
        status = put_uint(k, (uint64_t)index);
    }
    if (status == 0) {
        status = put(k, k->cf->tokens[2], k->cf->token_lens[2]);
    }
    return status ? status : put_uint(k, (uint64_t)count);
}

/* Transport keys a placeholder's header gets appended (bits of `keys`). */
#define T_LENGTHS 1
#define T_COMPRESSION 2
#define T_COUNT 4
#define T_DESERIALIZE 8

/* A whole placeholder for `frames` at `depth`: its header is `header`'s entries (NULL: none)
 * followed by the transport keys in `keys`, in the order of CE-5 (lengths: the frames' sizes;
 * compression: nil for each; count; deserialize), as the walk writes them. The frames are
 * appended to the offload area, in pre-order (CE-3). */
static int pack_placeholder(Pack *k, PyObject *header, int keys, PyObject *frames,
                            int deserialize, Py_ssize_t depth) {
    Py_ssize_t n = PyTuple_GET_SIZE(frames);
    Py_ssize_t extra = !!(keys & T_LENGTHS) + !!(keys & T_COMPRESSION) + !!(keys & T_COUNT) +
                       !!(keys & T_DESERIALIZE);
    Py_ssize_t index = PyList_GET_SIZE(k->frames);
    int status = placeholder_head(k);
    if (status == 0) {
        status = header != NULL           ? pack_dict(k, header, depth + 1, 1, extra)
                 : depth + 1 > k->max_depth ? PACK_BAIL
                                          : put_map_len(k, (uint64_t)extra);
    }
    if (status == 0 && (keys & T_LENGTHS)) {
        status = put_str(k, k->cf->lengths);
        if (status == 0) {
            status = put_sizes(k, frames, depth + 2);
        }
    }
    if (status == 0 && (keys & T_COMPRESSION)) {
        status = put_str(k, k->cf->compression);
        if (status == 0) {
            status = depth + 2 > k->max_depth ? PACK_BAIL : put_array_len(k, (uint64_t)n);
        }
        for (Py_ssize_t i = 0; i < n && status == 0; i++) {
            status = put_head(k, 0xc0, 0, 0);
        }
    }
    if (status == 0 && (keys & T_COUNT)) {
        status = put_str(k, k->cf->count);
        if (status == 0) {
            status = put_uint(k, (uint64_t)n);
        }
    }
    if (status == 0 && (keys & T_DESERIALIZE)) {
        status = put_str(k, k->cf->deserialize);
        if (status == 0) {
            status = put_head(k, deserialize ? 0xc3 : 0xc2, 0, 0);
        }
    }
    if (status == 0) {
        status = placeholder_tail(k, index, n);
    }
    return status == 0 ? append_frames(k, frames) : status;
}

/* The header and frames of an Offloaded or Materialized (`which`), held (new references);
 * 0 when a slot is empty (a value made without __init__): the walk decides. */
static int value_slots(const Config *cf, int which, PyObject *value, PyObject **header,
                       PyObject **frames) {
    PyObject *h = SLOT(value, cf->header_at[which]);
    PyObject *f = SLOT(value, cf->frames_at[which]);
    if (h == NULL || f == NULL) {
        return 0;
    }
    *header = Py_NewRef(h);
    *frames = Py_NewRef(f);
    return 1;
}

static int pack_materialized(Pack *k, PyObject *value, Py_ssize_t depth) {
    const Config *cf = k->cf;
    PyObject *header, *frames;
    if (!value_slots(cf, MATERIALIZED, value, &header, &frames)) {
        return PACK_BAIL;
    }
    int status = PACK_BAIL;
    if (!k->materialize || !PyDict_CheckExact(header) || !PyTuple_CheckExact(frames) ||
        depth + 1 > k->max_depth || !plain_keys(header)) {
        goto done;
    }
    PyObject *keys[] = {cf->count, cf->deserialize, cf->lengths, cf->compression};
    for (int i = 0; i < 4; i++) {
        int has = PyDict_Contains(header, keys[i]);
        if (has != 0) {
            status = has < 0 ? -1 : PACK_BAIL; /* CE-13 */
            goto done;
        }
    }
    Py_ssize_t n = PyTuple_GET_SIZE(frames);
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_ssize_t size = frame_size(PyTuple_GET_ITEM(frames, i));
        if (size < 0 || size > k->shard_size) {
            goto done; /* not flat, or to be split (CE-7) */
        }
    }
    status = pack_placeholder(k, header, T_LENGTHS | T_COMPRESSION | T_COUNT | T_DESERIALIZE,
                              frames, 0, depth);
done:
    Py_DECREF(header);
    Py_DECREF(frames);
    return status;
}

/* An Offloaded value passes through (CE-5): its header as given, with the transport keys it
 * lacks appended as the walk appends them (lengths, count, deserialize), after the checks of
 * CE-12. A header the walk would refuse takes the walk, which raises the error. */
static int pack_offloaded(Pack *k, PyObject *value, Py_ssize_t depth) {
    const Config *cf = k->cf;
    PyObject *header, *frames;
    if (!value_slots(cf, OFFLOADED, value, &header, &frames)) {
        return PACK_BAIL;
    }
    int status = PACK_BAIL;
    if (!PyDict_CheckExact(header) || !PyTuple_CheckExact(frames) || !plain_keys(header)) {
        goto done;
    }
    Py_ssize_t n = PyTuple_GET_SIZE(frames);
    /* Plain keys: these lookups run no Python code, and nothing allocates until the values
     * are no longer needed (pack_placeholder packs the header, but allocates nothing inside a
     * header), so the borrowed values stay the header's. */
    PyObject *count = PyDict_GetItemWithError(header, cf->count);
    PyObject *deserialize = PyDict_GetItemWithError(header, cf->deserialize);
    PyObject *lengths = PyDict_GetItemWithError(header, cf->lengths);
    PyObject *codecs = PyDict_GetItemWithError(header, cf->compression);
    if (PyErr_Occurred()) {
        status = -1;
        goto done;
    }
    Py_ssize_t c;
    if ((count != NULL && (!count_of(count, &c) || c != n)) ||
        (deserialize != NULL && deserialize != Py_True && deserialize != Py_False)) {
        goto done;
    }
    int compressed = 0;
    if (codecs != NULL) {
        if (!(PyList_CheckExact(codecs) || PyTuple_CheckExact(codecs)) ||
            PySequence_Fast_GET_SIZE(codecs) != n) {
            goto done;
        }
        for (Py_ssize_t i = 0; i < n; i++) {
            PyObject *codec = PySequence_Fast_GET_ITEM(codecs, i);
            if (codec != Py_None) {
                if (!PyUnicode_CheckExact(codec)) {
                    goto done;
                }
                compressed = 1;
            }
        }
    }
    long long size = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_ssize_t s = frame_size(PyTuple_GET_ITEM(frames, i));
        if (s < 0) {
            goto done;
        }
        size += s;
    }
    if (lengths != NULL) {
        if (!(PyList_CheckExact(lengths) || PyTuple_CheckExact(lengths))) {
            goto done;
        }
        long long total = 0;
        for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(lengths); i++) {
            Py_ssize_t length;
            if (!count_of(PySequence_Fast_GET_ITEM(lengths, i), &length) ||
                length > LLONG_MAX - total) {
                goto done;
            }
            total += length;
        }
        if (!compressed && total != size) {
            goto done;
        }
    } else if (compressed) {
        goto done; /* original sizes unknown */
    }
    int missing = (lengths == NULL ? T_LENGTHS : 0) | (count == NULL ? T_COUNT : 0) |
                  (deserialize == NULL ? T_DESERIALIZE : 0);
    status = pack_placeholder(k, header, missing, frames, 0, depth);
done:
    Py_DECREF(header);
    Py_DECREF(frames);
    return status;
}

/* A bin over the threshold travels as a raw byte string (HD-10, CE-8): a placeholder whose
 * header is {lengths, compression, count, deserialize: true}, as the walk writes it. Values
 * to split or compress take the walk. */
static int pack_raw(Pack *k, PyObject *obj, Py_ssize_t size, Py_ssize_t depth) {
    if (!k->materialize || size > k->shard_size) {
        return PACK_BAIL;
    }
    PyObject *frames = PyTuple_Pack(1, obj);
    if (frames == NULL) {
        return -1;
    }
    int status = pack_placeholder(k, NULL, T_LENGTHS | T_COMPRESSION | T_COUNT | T_DESERIALIZE,
                                  frames, 1, depth);
    Py_DECREF(frames);
    return status;
}

static int pack_obj(Pack *k, PyObject *obj, Py_ssize_t depth, int in_header) {
    PyTypeObject *type = Py_TYPE(obj);
    if (type == &PyUnicode_Type) {
        return put_str(k, obj);
    }
    if (type == &PyLong_Type) {
        return put_int(k, obj);
    }
    if (obj == Py_None) {
        return put_head(k, 0xc0, 0, 0);
    }
    if (obj == Py_True || obj == Py_False) {
        return put_head(k, obj == Py_True ? 0xc3 : 0xc2, 0, 0);
    }
    if (type == &PyFloat_Type) {
        double d = PyFloat_AS_DOUBLE(obj);
        uint64_t bits;
        memcpy(&bits, &d, sizeof bits);
        return put_head(k, 0xcb, 8, bits);
    }
    if (type == &PyDict_Type) {
        return pack_dict(k, obj, depth, in_header, 0);
    }
    if (type == &PyList_Type || type == &PyTuple_Type) {
        if (depth > k->max_depth) {
            return PACK_BAIL;
        }
        Py_ssize_t n = PySequence_Fast_GET_SIZE(obj);
        int status = put_array_len(k, (uint64_t)n);
        for (Py_ssize_t i = 0; i < n && status == 0; i++) {
            if (PySequence_Fast_GET_SIZE(obj) != n) {
                return PACK_BAIL; /* a finalizer changed the list (see above) */
            }
            PyObject *item = PySequence_Fast_GET_ITEM(obj, i);
            Py_INCREF(item);
            status = pack_obj(k, item, depth + 1, in_header);
            Py_DECREF(item);
        }
        return status;
    }
    if (type == &PyBytes_Type || type == &PyByteArray_Type || type == &PyMemoryView_Type) {
        Py_buffer view;
        if (PyObject_GetBuffer(obj, &view, PyBUF_ND) < 0) {
            PyErr_Clear();
            return PACK_BAIL; /* not C-contiguous: the walk reports it */
        }
        int status = !in_header && view.len > k->threshold ? pack_raw(k, obj, view.len, depth)
                                                            : put_bin(k, view.buf, view.len);
        PyBuffer_Release(&view);
        return status;
    }
    if ((PyObject *)type == k->cf->types[OFFLOADED] && !in_header) {
        return depth > k->max_depth ? PACK_BAIL : pack_offloaded(k, obj, depth);
    }
    if ((PyObject *)type == k->cf->types[MATERIALIZED] && !in_header) {
        return depth > k->max_depth ? PACK_BAIL : pack_materialized(k, obj, depth);
    }
    return PACK_BAIL; /* Float32, subclasses, other types: the walk decides */
}

PyDoc_STRVAR(pack_doc,
             "pack(message, frames, max_depth, shard_size, threshold, materialize, /)\n"
             "-> bytes or NotImplemented\n\n"
             "Frame 1 of `message`, appending offloaded frames to the list `frames`;\n"
             "NotImplemented when the exact walk must decide (the list is then spoiled).");

static PyObject *pack(PyObject *module, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 6 || !PyList_CheckExact(args[1])) {
        PyErr_SetString(PyExc_TypeError, "pack() takes 6 arguments; frames is a list");
        return NULL;
    }
    const Config *cf = config_of(module);
    if (cf == NULL) {
        return NULL;
    }
    Pack k = {NULL, 0, 0, cf, args[1], 0, 0, 0, 0};
    k.max_depth = parse_depth(args[2]);
    if (k.max_depth < 0) {
        return NULL;
    }
    k.max_depth = walk_depth(k.max_depth);
    Py_ssize_t *sizes[2] = {&k.shard_size, &k.threshold};
    for (int i = 0; i < 2; i++) {
        *sizes[i] = PyLong_AsSsize_t(args[3 + i]);
        if (*sizes[i] == -1 && PyErr_Occurred()) {
            return NULL;
        }
    }
    k.materialize = PyObject_IsTrue(args[5]);
    if (k.materialize < 0) {
        return NULL;
    }
    PyObject *message = args[0];
    PyTypeObject *type = Py_TYPE(message);
    int status = PACK_BAIL;
    if (type == &PyDict_Type || type == &PyList_Type || type == &PyTuple_Type) {
        if (Py_EnterRecursiveCall(" in daskwire.placeholder_v1._scan.pack") == 0) {
            status = pack_obj(&k, message, 1, 0);
            Py_LeaveRecursiveCall();
        } else {
            status = -1;
        }
    }
    PyObject *out = NULL;
    if (status == 0) {
        out = PyBytes_FromStringAndSize((const char *)k.buf, (Py_ssize_t)k.len);
    } else if (status == PACK_BAIL) {
        out = Py_NewRef(Py_NotImplemented);
    }
    PyMem_Free(k.buf);
    return out;
}

PyDoc_STRVAR(scan_doc,
             "scan(data, max_depth, max_bin, /) -> int\n\n"
             "Number of placeholder maps in a payload the exact path provably reads the same\n"
             "way, or -1 when the bytes are not vouched for (see the module docstring).\n"
             "max_bin < 0 means no bin length limit.");

/* The placeholder count of a vouched payload, or BAIL. */
static Py_ssize_t scan_buffer(const Config *cf, const Py_buffer *view, Py_ssize_t max_depth,
                              long long max_bin) {
    Scan s = {(const unsigned char *)view->buf,
              (const unsigned char *)view->buf + view->len,
              cf,
              walk_depth(max_depth),
              max_bin,
              0,
              NULL,
              0,
              0};
    Py_ssize_t result = BAIL;
    if (view->len > 0) {
        unsigned char first = s.p[0];
        int container = (first >= 0x80 && first <= 0x9f) || (first >= 0xdc && first <= 0xdf);
        if (container && value(&s, 0, 0) == 0 && s.p == s.end) {
            result = s.placeholders;
        }
    }
    PyMem_Free(s.keys);
    return result;
}

static PyObject *scan(PyObject *module, PyObject *const *args, Py_ssize_t nargs) {
    const Config *cf = config_of(module);
    if (cf == NULL) {
        return NULL;
    }
    if (nargs != 3) {
        PyErr_SetString(PyExc_TypeError, "scan() takes exactly 3 arguments");
        return NULL;
    }
    Py_ssize_t max_depth = parse_depth(args[1]);
    if (max_depth < 0) {
        return NULL;
    }
    int overflow = 0;
    long long max_bin = PyLong_AsLongLongAndOverflow(args[2], &overflow);
    if (max_bin == -1 && PyErr_Occurred()) {
        return NULL;
    }
    if (overflow) { /* past 2**63 - 1: no limit; below -2**63: no limit either (< 0) */
        max_bin = overflow > 0 ? LLONG_MAX : -1;
    }
    Py_buffer view;
    if (PyObject_GetBuffer(args[0], &view, PyBUF_SIMPLE) < 0) {
        return NULL;
    }
    Py_ssize_t result = scan_buffer(cf, &view, max_depth, max_bin);
    PyBuffer_Release(&view);
    return PyLong_FromSsize_t(result);
}

PyDoc_STRVAR(frames_ok_doc,
             "frames_ok(frames, max_frames, max_frame_bytes, max_message_bytes, /) -> bool\n\n"
             "True when `frames` is a list or tuple of bytes, bytearray or flat byte\n"
             "memoryviews (format 'B', one dimension, C-contiguous) within the limits of\n"
             "layer 1 (WF-2, WF-7), counting the prelude; False when the exact path decides.");

/* Reads three non-negative limits; a limit past 2**63 - 1 bounds nothing a buffer can hold. */
static int parse_limits(PyObject *const *args, long long limit[3]) {
    for (int i = 0; i < 3; i++) {
        int overflow = 0;
        limit[i] = PyLong_AsLongLongAndOverflow(args[i], &overflow);
        if (limit[i] == -1 && PyErr_Occurred()) {
            return -1;
        }
        if (overflow > 0) {
            limit[i] = LLONG_MAX;
        } else if (overflow < 0 || limit[i] < 0) {
            PyErr_SetString(PyExc_ValueError, "frame limits must be non-negative");
            return -1;
        }
    }
    return 0;
}

static PyObject *frames_ok(PyObject *module, PyObject *const *args, Py_ssize_t nargs) {
    const Config *cf = config_of(module);
    if (cf == NULL) {
        return NULL;
    }
    if (nargs != 4) {
        PyErr_SetString(PyExc_TypeError, "frames_ok() takes exactly 4 arguments");
        return NULL;
    }
    long long limit[3];
    if (parse_limits(args + 1, limit) < 0) {
        return NULL;
    }
    PyObject *seq = args[0];
    if (!PyList_CheckExact(seq) && !PyTuple_CheckExact(seq)) {
        Py_RETURN_FALSE;
    }
    Py_ssize_t count = PySequence_Fast_GET_SIZE(seq);
    if (count < 2 || count > limit[0]) {
        Py_RETURN_FALSE;
    }
    Held held;
    int status = hold_frames(PySequence_Fast_ITEMS(seq), count, &held);
    if (status <= 0) {
        return status < 0 ? NULL : Py_NewRef(Py_False);
    }
    int ok = within_limits(&held, count, limit, cf->prelude_int_bytes);
    release_frames(&held);
    return PyBool_FromLong(ok);
}

PyDoc_STRVAR(decode_doc,
             "decode(frames, max_frames, max_frame_bytes, max_message_bytes, max_depth,\n"
             "       consuming, /) -> message or NotImplemented\n\n"
             "frames_ok(), scan() and build() in one call, for frames with an empty frame 0;\n"
             "NotImplemented when the Python paths must decide.");

static PyObject *decode(PyObject *module, PyObject *const *args, Py_ssize_t nargs) {
    const Config *cf = config_of(module);
    if (cf == NULL) {
        return NULL;
    }
    if (nargs != 6) {
        PyErr_SetString(PyExc_TypeError, "decode() takes exactly 6 arguments");
        return NULL;
    }
    long long limit[3];
    if (parse_limits(args + 1, limit) < 0) {
        return NULL;
    }
    Py_ssize_t max_depth = parse_depth(args[4]);
    if (max_depth < 0) {
        return NULL;
    }
    int consuming = PyObject_IsTrue(args[5]);
    if (consuming < 0) {
        return NULL;
    }
    /* An own tuple of the frames (making it may run a finalizer, which then sees only the
     * caller's list); its buffers are held from the limit checks to the build. */
    PyObject *frames = own_frames(args[0]);
    if (frames == NULL || frames == Py_NotImplemented) {
        return frames;
    }
    Py_ssize_t count = PyTuple_GET_SIZE(frames);
    PyObject *head = count ? PyTuple_GET_ITEM(frames, 0) : NULL;
    if (count < 2 || count > limit[0] || !PyBytes_CheckExact(head) ||
        PyBytes_GET_SIZE(head) != 0) {
        /* Too few or too many frames, or frame 0 to read: the Python path does it. */
        Py_DECREF(frames);
        Py_RETURN_NOTIMPLEMENTED;
    }
    Held held;
    int status = hold_frames(&PyTuple_GET_ITEM(frames, 0), count, &held);
    if (status <= 0) {
        Py_DECREF(frames);
        return status < 0 ? NULL : Py_NewRef(Py_NotImplemented);
    }
    PyObject *out = Py_NotImplemented;
    const Py_buffer *body = &held.views[1];
    if (within_limits(&held, count, limit, cf->prelude_int_bytes) &&
        scan_buffer(cf, body, max_depth, -1) >= 0) {
        out = build_held(cf, body, frames, &held, consuming);
    } else {
        Py_INCREF(out); /* not flat frames in the limits, or not a vouched payload */
    }
    release_frames(&held);
    Py_DECREF(frames);
    return out;
}

static PyMethodDef methods[] = {
    {"scan", (PyCFunction)(void (*)(void))scan, METH_FASTCALL, scan_doc},
    {"frames_ok", (PyCFunction)(void (*)(void))frames_ok, METH_FASTCALL, frames_ok_doc},
    {"decode", (PyCFunction)(void (*)(void))decode, METH_FASTCALL, decode_doc},
    {"build", (PyCFunction)(void (*)(void))build, METH_FASTCALL, build_doc},
    {"pack", (PyCFunction)(void (*)(void))pack, METH_FASTCALL, pack_doc},
    {"configure", (PyCFunction)(void (*)(void))configure, METH_FASTCALL, configure_doc},
    {NULL, NULL, 0, NULL},
};

static int traverse_module(PyObject *module, visitproc visit, void *arg) {
    State *st = (State *)PyModule_GetState(module);
    if (st != NULL && st->configured) {
        Py_VISIT(st->c.types[OFFLOADED]);
        Py_VISIT(st->c.types[MATERIALIZED]);
    }
    return 0;
}

static int clear_module(PyObject *module) {
    State *st = (State *)PyModule_GetState(module);
    if (st != NULL && st->configured) {
        st->configured = 0;
        Py_CLEAR(st->c.types[OFFLOADED]);
        Py_CLEAR(st->c.types[MATERIALIZED]);
        Py_CLEAR(st->c.lengths);
        Py_CLEAR(st->c.compression);
        Py_CLEAR(st->c.count);
        Py_CLEAR(st->c.deserialize);
    }
    return 0;
}

static void free_module(void *module) { clear_module((PyObject *)module); }

static int exec_module(PyObject *module) {
    return PyModule_AddIntConstant(module, "DEPTH_CAP", C_DEPTH_CAP);
}

static PyModuleDef_Slot module_slots[] = {
    {Py_mod_exec, (void *)exec_module},
    {0, NULL},
};

/* Multi-phase initialisation: each import of the module makes a new module object, with its
 * own state (zeroed: not configured). */
static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT,
    "daskwire.placeholder_v1._scan",
    "The reference codec's compiled fast path: vouch or step aside (see _scan.c).",
    sizeof(State),
    methods,
    module_slots,
    traverse_module,
    clear_module,
    free_module,
};

PyMODINIT_FUNC PyInit__scan(void) { return PyModuleDef_Init(&module_def); }
