# Static types for the compiled build of codec.py (Cython pure-Python mode: the .py stays the source,
# this file only declares types; without a compiled extension codec.py runs as it is).
cimport cython


cdef class Avp:
    cdef public object code
    cdef public object vendor
    cdef public object flags
    cdef public bytes _buf
    cdef public Py_ssize_t _start
    cdef public Py_ssize_t _end
    cdef public object _kids
    cdef public bint _grouped

    @cython.locals(buf=bytes, pos=Py_ssize_t, i=Py_ssize_t, v=cython.ulonglong)
    cpdef object _uint(self, Py_ssize_t n)


cdef unsigned int _word(bytes buf, Py_ssize_t pos)


@cython.locals(out=list, pos=Py_ssize_t, length=Py_ssize_t, hdr=Py_ssize_t, kind=Py_ssize_t,
               flags=cython.uchar, code=cython.uint, vendor=cython.uint, a=Avp, kind0=dict, kind_v=dict)
cpdef list _split(bytes buf, Py_ssize_t start, Py_ssize_t end, int depth, int mode)


@cython.locals(a=Avp, known0=frozenset, kids=list)
cpdef object unknown_mandatory(list avps)


@cython.locals(a=Avp, known0=frozenset, kids=list, data=bytes)
cpdef check_request(list avps, str realm, str host, bytes realm_b, bytes host_b)


@cython.locals(pos=Py_ssize_t, end=Py_ssize_t, length=Py_ssize_t, code=cython.uint)
cpdef object answer_result(bytes answer)
