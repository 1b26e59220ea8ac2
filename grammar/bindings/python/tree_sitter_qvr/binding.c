/*
 * tree_sitter_qvr._binding: exposes the generated QVR parser (grammar/src/parser.c) to Python.
 *
 * py-tree-sitter (>= 0.22) builds a Language from a PyCapsule named "tree_sitter.Language"
 * that wraps the `const TSLanguage *` returned by tree_sitter_qvr(); that is all this module
 * provides.  The capsule has no destructor: the language is a static object in parser.c.
 */
#include <Python.h>

typedef struct TSLanguage TSLanguage;

const TSLanguage *tree_sitter_qvr(void);

static PyObject *binding_language(PyObject *Py_UNUSED(self), PyObject *Py_UNUSED(args)) {
    return PyCapsule_New((void *)tree_sitter_qvr(), "tree_sitter.Language", NULL);
}

static PyMethodDef binding_methods[] = {
    {"language", binding_language, METH_NOARGS,
     "Get the tree-sitter language for QVR as a PyCapsule named \"tree_sitter.Language\"."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef binding_module = {
    .m_base = PyModuleDef_HEAD_INIT,
    .m_name = "_binding",
    .m_doc = "C glue for the QVR tree-sitter parser.",
    .m_size = -1,
    .m_methods = binding_methods,
};

PyMODINIT_FUNC PyInit__binding(void) {
    return PyModule_Create(&binding_module);
}
