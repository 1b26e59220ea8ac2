/*
 * qvr.syntax._lexer: the parser's fast-path lexer in C (optional; `qvr.syntax.parser` falls
 * back to its single regular expression when this module is not built).
 *
 * What it computes is exactly what `qvr.syntax.parser._lex_regex` computes: the tokens of a
 * text under lark's basic lexer over qvr.lark's terminals, or None where a character starts no
 * token. Lexing is a fifth of parse + check in Python (one regular-expression match, four
 * method calls and one object per token); here it is a loop over the characters.
 *
 * Written once, not twice: the operators, the keyword table and the tier-3 block pattern come
 * from the grammar at run time (the `Lexer` constructor's arguments, which `qvr.syntax.parser`
 * derives from qvr.lark). What is written here by hand are the terminals whose patterns are in
 * `PATTERNS` below (numbers, names, comments, blanks); the parser uses this module only while
 * the grammar's patterns are exactly those strings (tests/syntax/test_c_lexer.py checks that it
 * is used, and compares both lexers on every QVR file of the repository and on random text).
 *
 * Matching follows Python's `re` on str patterns: `\w` is Py_UNICODE_ISALNUM or `_`, `\d` is
 * Py_UNICODE_ISDECIMAL, and alternatives are tried in order (the first that matches wins).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>

/* ------------------------------------------------------------------------------ Tok ---- */

/* A token as the AST builder sees it: type (lark terminal name), text and offsets. */
typedef struct {
    PyObject_HEAD
    PyObject *type;
    PyObject *value;
    PyObject *start_pos;
    PyObject *end_pos;
} TokObject;

static PyTypeObject TokType;

static PyObject *tok_make(PyObject *type, PyObject *value, PyObject *start, PyObject *end) {
    TokObject *t = PyObject_New(TokObject, &TokType);
    if (t == NULL)
        return NULL;
    t->type = Py_NewRef(type);
    t->value = Py_NewRef(value);
    t->start_pos = Py_NewRef(start);
    t->end_pos = Py_NewRef(end);
    return (PyObject *)t;
}

static PyObject *tok_new(PyTypeObject *Py_UNUSED(cls), PyObject *args, PyObject *kwargs) {
    static char *names[] = {"type", "value", "start", "end", NULL};
    PyObject *type, *value, *start, *end;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OOOO:Tok", names, &type, &value, &start, &end))
        return NULL;
    return tok_make(type, value, start, end);
}

static void tok_dealloc(TokObject *t) {
    Py_XDECREF(t->type);
    Py_XDECREF(t->value);
    Py_XDECREF(t->start_pos);
    Py_XDECREF(t->end_pos);
    PyObject_Free(t);
}

static PyObject *tok_repr(TokObject *t) {
    return PyUnicode_FromFormat("Tok(%R, %R, %R, %R)", t->type, t->value, t->start_pos, t->end_pos);
}

/* pickle and copy: rebuilt from its four fields */
static PyObject *tok_reduce(TokObject *t, PyObject *Py_UNUSED(ignored)) {
    return Py_BuildValue("O(OOOO)", (PyObject *)Py_TYPE(t), t->type, t->value, t->start_pos,
                         t->end_pos);
}

static PyMethodDef tok_methods[] = {
    {"__reduce__", (PyCFunction)tok_reduce, METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL},
};

/* Read-only: a token is made once by the lexer and only read after that (which also means a
 * token never refers to anything but strings and ints, so it needs no cycle collection). */
static PyMemberDef tok_members[] = {
    {"type", T_OBJECT, offsetof(TokObject, type), READONLY, "lark terminal name"},
    {"value", T_OBJECT, offsetof(TokObject, value), READONLY, "the token's text"},
    {"start_pos", T_OBJECT, offsetof(TokObject, start_pos), READONLY, "offset of its first character"},
    {"end_pos", T_OBJECT, offsetof(TokObject, end_pos), READONLY, "offset after its last character"},
    {NULL, 0, 0, 0, NULL},
};

static PyTypeObject TokType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "qvr.syntax._lexer.Tok",
    .tp_doc = "Tok(type, value, start, end): a token as the AST builder sees it.",
    .tp_basicsize = sizeof(TokObject),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_new = tok_new,
    .tp_dealloc = (destructor)tok_dealloc,
    .tp_repr = (reprfunc)tok_repr,
    .tp_methods = tok_methods,
    .tp_members = tok_members,
};

/* ---------------------------------------------------------------------------- Lexer ---- */

typedef struct {
    PyObject_HEAD
    PyObject *fixed;        /* dict: fixed text (operator or keyword) -> terminal name */
    PyObject *operators;    /* tuple of str, longest first (as lark tries them) */
    PyObject *opaque_match; /* the tier-3 block pattern's `match`, or None */
    PyObject *initials;     /* str: the characters a tier-3 block can start with; None: any */
    PyObject *kinds;        /* tuple: names of OPAQUE_BLOCK, FLOAT, NAME, INT */
} LexerObject;

#define READ(i) PyUnicode_READ(kind, data, (i))

static inline int is_word(Py_UCS4 c) {
    return c == '_' || Py_UNICODE_ISALNUM(c);
}

static inline int is_ascii_digit(Py_UCS4 c) {
    return c >= '0' && c <= '9';
}

/* End of the blanks and comments from `pos`: `(?:#\{(.|\n)*?\}#|#![^\n]*|#[^\n]*|[ \t\f\r\n\ufeff])*`.
 * `*no_close` is where a search for `}#` last failed: no search from there on can succeed,
 * which keeps many unclosed `#{` linear. */
static Py_ssize_t skip_blanks(int kind, const void *data, Py_ssize_t n, Py_ssize_t pos,
                              Py_ssize_t *no_close) {
    while (pos < n) {
        Py_UCS4 c = READ(pos);
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == 0xFEFF) {
            pos++;
        } else if (c == '#') {
            if (pos + 1 < n && READ(pos + 1) == '{' && pos + 2 < *no_close) {
                Py_ssize_t i = pos + 2;
                while (i + 1 < n && !(READ(i) == '}' && READ(i + 1) == '#'))
                    i++;
                if (i + 1 < n) {
                    pos = i + 2;
                    continue;
                }
                *no_close = pos + 2;
            }
            /* `#!...` and `#...` (and an unclosed `#{`) run to the end of the line */
            while (pos < n && READ(pos) != '\n')
                pos++;
        } else {
            break;
        }
    }
    return pos;
}

/* `[eE][+-]?[0-9]+` at `i`: its end, or -1 */
static Py_ssize_t scan_exponent(int kind, const void *data, Py_ssize_t n, Py_ssize_t i) {
    if (i >= n || (READ(i) != 'e' && READ(i) != 'E'))
        return -1;
    i++;
    if (i < n && (READ(i) == '+' || READ(i) == '-'))
        i++;
    if (i >= n || !is_ascii_digit(READ(i)))
        return -1;
    while (i < n && is_ascii_digit(READ(i)))
        i++;
    return i;
}

/* FLOAT at `pos`, its four alternatives in order:
 *   [0-9]+\.[0-9]+([eE][+-]?[0-9]+)?  |  [0-9]+[eE][+-]?[0-9]+
 *   \.[0-9]+([eE][+-]?[0-9]+)?        |  [0-9]+\.(?![\w.])
 * Returns its end, or -1. */
static Py_ssize_t scan_float(int kind, const void *data, Py_ssize_t n, Py_ssize_t pos) {
    Py_ssize_t i = pos, e;
    if (is_ascii_digit(READ(pos))) {
        while (i < n && is_ascii_digit(READ(i)))
            i++;
        if (i < n && READ(i) == '.') {
            Py_ssize_t j = i + 1;
            if (j < n && is_ascii_digit(READ(j))) {
                while (j < n && is_ascii_digit(READ(j)))
                    j++;
                e = scan_exponent(kind, data, n, j);
                return e >= 0 ? e : j;
            }
        }
        e = scan_exponent(kind, data, n, i);
        if (e >= 0)
            return e;
        if (i < n && READ(i) == '.' && !(i + 1 < n && (is_word(READ(i + 1)) || READ(i + 1) == '.')))
            return i + 1;
        return -1;
    }
    if (READ(pos) == '.' && pos + 1 < n && is_ascii_digit(READ(pos + 1))) {
        i = pos + 1;
        while (i < n && is_ascii_digit(READ(i)))
            i++;
        e = scan_exponent(kind, data, n, i);
        return e >= 0 ? e : i;
    }
    return -1;
}

/* The longest operator at `pos` (the operators come longest first): its index, or -1. */
static Py_ssize_t scan_operator(LexerObject *self, int kind, const void *data, Py_ssize_t n,
                                Py_ssize_t pos) {
    Py_ssize_t count = PyTuple_GET_SIZE(self->operators);
    for (Py_ssize_t k = 0; k < count; k++) {
        PyObject *op = PyTuple_GET_ITEM(self->operators, k);
        Py_ssize_t len = PyUnicode_GET_LENGTH(op);
        if (len == 0 || pos + len > n)
            continue;
        int op_kind = PyUnicode_KIND(op);
        const void *op_data = PyUnicode_DATA(op);
        Py_ssize_t j = 0;
        while (j < len && PyUnicode_READ(op_kind, op_data, j) == READ(pos + j))
            j++;
        if (j == len)
            return k;
    }
    return -1;
}

/* A tier-3 block at `pos` (a line start): the end of the pattern's match, -1 for none, -2 on
 * an error (set). */
static Py_ssize_t scan_opaque(LexerObject *self, PyObject *text, Py_ssize_t pos) {
    PyObject *m = PyObject_CallFunction(self->opaque_match, "On", text, pos);
    if (m == NULL)
        return -2;
    if (m == Py_None) {
        Py_DECREF(m);
        return -1;
    }
    PyObject *end = PyObject_CallMethod(m, "end", NULL);
    Py_DECREF(m);
    if (end == NULL)
        return -2;
    Py_ssize_t e = PyLong_AsSsize_t(end);
    Py_DECREF(end);
    return (e == -1 && PyErr_Occurred()) ? -2 : e;
}

/* Append one token; 0 on success, -1 on error. */
static int push_token(LexerObject *self, PyObject *text, PyObject *tokens, PyObject *types,
                      PyObject *terminal, Py_ssize_t start, Py_ssize_t end) {
    PyObject *value = PyUnicode_Substring(text, start, end);
    if (value == NULL)
        return -1;
    /* a keyword is a NAME whose text is a keyword string, retyped as lark does */
    PyObject *fixed = PyDict_GetItemWithError(self->fixed, value);
    if (fixed == NULL && PyErr_Occurred()) {
        Py_DECREF(value);
        return -1;
    }
    if (fixed != NULL)
        terminal = fixed;
    PyObject *s = PyLong_FromSsize_t(start), *e = PyLong_FromSsize_t(end);
    PyObject *tok = (s && e) ? tok_make(terminal, value, s, e) : NULL;
    Py_XDECREF(s);
    Py_XDECREF(e);
    Py_DECREF(value);
    if (tok == NULL)
        return -1;
    int failed = PyList_Append(tokens, tok) || PyList_Append(types, terminal);
    Py_DECREF(tok);
    return failed ? -1 : 0;
}

/* Lexer(text) -> (tokens, their terminal names) or None */
static PyObject *lexer_call(LexerObject *self, PyObject *args, PyObject *kwargs) {
    PyObject *text;
    if (kwargs != NULL && PyDict_GET_SIZE(kwargs)) {
        PyErr_SetString(PyExc_TypeError, "Lexer() takes no keyword arguments");
        return NULL;
    }
    if (!PyArg_ParseTuple(args, "U:Lexer", &text))
        return NULL;
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    Py_ssize_t n = PyUnicode_GET_LENGTH(text), pos = 0, no_close = PY_SSIZE_T_MAX;
    PyObject *k_opaque = PyTuple_GET_ITEM(self->kinds, 0), *k_float = PyTuple_GET_ITEM(self->kinds, 1);
    PyObject *k_name = PyTuple_GET_ITEM(self->kinds, 2), *k_int = PyTuple_GET_ITEM(self->kinds, 3);
    PyObject *tokens = PyList_New(0), *types = PyList_New(0);
    if (tokens == NULL || types == NULL)
        goto error;
    for (;;) {
        pos = skip_blanks(kind, data, n, pos, &no_close);
        if (pos >= n)
            break;
        Py_UCS4 c = READ(pos);
        Py_ssize_t end = -1;
        PyObject *terminal = NULL;
        if (self->opaque_match != Py_None && (pos == 0 || READ(pos - 1) == '\n')
                && (self->initials == Py_None || PyUnicode_FindChar(
                        self->initials, c, 0, PyUnicode_GET_LENGTH(self->initials), 1) >= 0)) {
            end = scan_opaque(self, text, pos);
            if (end == -2)
                goto error;
            if (end == pos)  /* the pattern never matches nothing; never loop on it */
                end = -1;
            terminal = k_opaque;
        }
        if (end < 0) {
            end = scan_float(kind, data, n, pos);
            terminal = k_float;
        }
        if (end < 0 && is_word(c) && !Py_UNICODE_ISDECIMAL(c)) {
            end = pos + 1;
            while (end < n && is_word(READ(end)))
                end++;
            terminal = k_name;
        }
        if (end < 0 && is_ascii_digit(c)) {
            end = pos + 1;
            while (end < n && is_ascii_digit(READ(end)))
                end++;
            terminal = k_int;
        }
        if (end < 0) {
            Py_ssize_t k = scan_operator(self, kind, data, n, pos);
            if (k < 0) {  /* no token starts here: the caller takes the slow path */
                Py_DECREF(tokens);
                Py_DECREF(types);
                Py_RETURN_NONE;
            }
            PyObject *op = PyTuple_GET_ITEM(self->operators, k);
            end = pos + PyUnicode_GET_LENGTH(op);
            terminal = PyDict_GetItemWithError(self->fixed, op);
            if (terminal == NULL) {
                if (!PyErr_Occurred())
                    PyErr_Format(PyExc_KeyError, "operator %R has no terminal", op);
                goto error;
            }
        }
        if (push_token(self, text, tokens, types, terminal, pos, end) < 0)
            goto error;
        pos = end;
    }
    PyObject *result = PyTuple_Pack(2, tokens, types);
    Py_DECREF(tokens);
    Py_DECREF(types);
    return result;
error:
    Py_XDECREF(tokens);
    Py_XDECREF(types);
    return NULL;
}

static PyObject *lexer_new(PyTypeObject *cls, PyObject *args, PyObject *kwargs) {
    static char *names[] = {"fixed", "operators", "opaque_match", "initials", "kinds", NULL};
    PyObject *fixed, *operators, *opaque_match, *initials, *kinds;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O!O!OOO!:Lexer", names, &PyDict_Type, &fixed,
                                     &PyTuple_Type, &operators, &opaque_match, &initials,
                                     &PyTuple_Type, &kinds))
        return NULL;
    if (PyTuple_GET_SIZE(kinds) != 4) {
        PyErr_SetString(PyExc_ValueError, "kinds: the names of OPAQUE_BLOCK, FLOAT, NAME and INT");
        return NULL;
    }
    for (Py_ssize_t k = 0; k < PyTuple_GET_SIZE(operators); k++) {
        if (!PyUnicode_Check(PyTuple_GET_ITEM(operators, k))) {
            PyErr_SetString(PyExc_TypeError, "operators must be strings");
            return NULL;
        }
    }
    if (initials != Py_None && !PyUnicode_Check(initials)) {
        PyErr_SetString(PyExc_TypeError, "initials must be a string or None");
        return NULL;
    }
    if (opaque_match != Py_None && !PyCallable_Check(opaque_match)) {
        PyErr_SetString(PyExc_TypeError, "opaque_match must be callable or None");
        return NULL;
    }
    LexerObject *self = (LexerObject *)cls->tp_alloc(cls, 0);
    if (self == NULL)
        return NULL;
    self->fixed = Py_NewRef(fixed);
    self->operators = Py_NewRef(operators);
    self->opaque_match = Py_NewRef(opaque_match);
    self->initials = Py_NewRef(initials);
    self->kinds = Py_NewRef(kinds);
    return (PyObject *)self;
}

static int lexer_traverse(LexerObject *self, visitproc visit, void *arg) {
    Py_VISIT(self->fixed);
    Py_VISIT(self->operators);
    Py_VISIT(self->opaque_match);
    Py_VISIT(self->initials);
    Py_VISIT(self->kinds);
    return 0;
}

static int lexer_clear(LexerObject *self) {
    Py_CLEAR(self->fixed);
    Py_CLEAR(self->operators);
    Py_CLEAR(self->opaque_match);
    Py_CLEAR(self->initials);
    Py_CLEAR(self->kinds);
    return 0;
}

static void lexer_dealloc(LexerObject *self) {
    PyObject_GC_UnTrack(self);
    lexer_clear(self);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyTypeObject LexerType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "qvr.syntax._lexer.Lexer",
    .tp_doc = "Lexer(fixed, operators, opaque_match, initials, kinds): call it on a text for\n"
              "(tokens, terminal names), or None where a character starts no token.",
    .tp_basicsize = sizeof(LexerObject),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_new = lexer_new,
    .tp_call = (ternaryfunc)lexer_call,
    .tp_traverse = (traverseproc)lexer_traverse,
    .tp_clear = (inquiry)lexer_clear,
    .tp_dealloc = (destructor)lexer_dealloc,
};

/* --------------------------------------------------------------------------- module ---- */

static struct PyModuleDef lexer_module = {
    .m_base = PyModuleDef_HEAD_INIT,
    .m_name = "_lexer",
    .m_doc = "The QVR parser's fast-path lexer in C (see qvr.syntax.parser).",
    .m_size = -1,
};

/* The grammar patterns written out by hand above, by terminal name. */
static const char *PATTERNS[][2] = {
    {"FLOAT", "(?:[0-9]+\\.[0-9]+([eE][+-]?[0-9]+)?|[0-9]+[eE][+-]?[0-9]+|\\.[0-9]+([eE][+-]?[0-9]+)?"
              "|[0-9]+\\.(?![\\w.]))"},
    {"NAME", "(?!\\d)\\w+"},
    {"INT", "[0-9]+"},
    {"BLOCK_COMMENT", "#\\{(.|\n)*?\\}#"},
    {"DOC_COMMENT", "#![^\n]*"},
    {"LINE_COMMENT", "#[^\n]*"},
    {"__IGNORE_3", "[ \t\f\r\n\xef\xbb\xbf]+"},
    {NULL, NULL},
};

PyMODINIT_FUNC PyInit__lexer(void) {
    if (PyType_Ready(&TokType) < 0 || PyType_Ready(&LexerType) < 0)
        return NULL;
    PyObject *m = PyModule_Create(&lexer_module);
    if (m == NULL)
        return NULL;
    PyObject *patterns = PyDict_New();
    if (patterns == NULL)
        goto error;
    for (int k = 0; PATTERNS[k][0] != NULL; k++) {
        PyObject *p = PyUnicode_FromString(PATTERNS[k][1]);
        if (p == NULL || PyDict_SetItemString(patterns, PATTERNS[k][0], p) < 0) {
            Py_XDECREF(p);
            Py_DECREF(patterns);
            goto error;
        }
        Py_DECREF(p);
    }
    if (PyModule_AddObject(m, "PATTERNS", patterns) < 0) {
        Py_DECREF(patterns);
        goto error;
    }
    /* the order it tries terminals in at one position (the skipped ones among them) */
    PyObject *order = Py_BuildValue("(sssssss)", "OPAQUE_BLOCK", "BLOCK_COMMENT", "FLOAT",
                                    "DOC_COMMENT", "NAME", "INT", "LINE_COMMENT");
    if (order == NULL || PyModule_AddObject(m, "ORDER", order) < 0) {
        Py_XDECREF(order);
        goto error;
    }
    Py_INCREF(&TokType);
    if (PyModule_AddObject(m, "Tok", (PyObject *)&TokType) < 0) {
        Py_DECREF(&TokType);
        goto error;
    }
    Py_INCREF(&LexerType);
    if (PyModule_AddObject(m, "Lexer", (PyObject *)&LexerType) < 0) {
        Py_DECREF(&LexerType);
        goto error;
    }
    return m;
error:
    Py_DECREF(m);
    return NULL;
}
