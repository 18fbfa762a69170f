/*
 * ui_template.c - the page templates: each file is compiled once at load
 * into a flat list of nodes (text, variable, section, inverted section,
 * catalogue key, partial), with sections matched and partials resolved,
 * so that a broken template stops the start-up with its file and line
 * instead of a broken page later. Rendering walks the nodes, appends to a
 * bounded buffer and escapes every variable and every catalogue text.
 *
 * Besides the handler's variables, two are always there: "lang" (the
 * page language, unless the handler set it) and "lang_<code>" ("lang_el"
 * or "lang_en", "1" for the page language), so that a template can mark
 * the current language without help from C.
 */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ui_int.h"

#define UI_PAGES_MAX 64
#define UI_FILE_MAX ((size_t)64 * 1024)
#define UI_NODES_MAX 4096
#define UI_NEST_MAX 16		/* sections inside sections */
#define UI_PARTIAL_DEPTH 8	/* partials inside partials */
#define UI_NAME_MAX 64

enum node_kind { N_TEXT, N_VAR, N_SECTION, N_INVERTED, N_TEXT_KEY, N_PARTIAL };

struct node {
	enum node_kind kind;
	const char *text;	/* N_TEXT: into the page's source */
	size_t len;
	char *name;		/* variable, section, key or partial */
	size_t end;		/* sections: the first node after the block */
	size_t partial;		/* N_PARTIAL: index in ui->pages */
	unsigned line;
};

struct ui_page {
	char *name;		/* file name without .html */
	char *path;		/* for messages */
	char *src;
	struct node *nodes;
	size_t n;
	size_t cap;
};

struct compile {
	struct ui_page *p;
	unsigned line;
	size_t open[UI_NEST_MAX];	/* nodes of the open sections */
	size_t depth;
	char *err;
	size_t errlen;
};

struct render {
	const struct ui *ui;
	int lang;
	const struct ui_vars *vars;
	struct buf *out;
	int partials;
};

static int
cerr(struct compile *c, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
cerr(struct compile *c, unsigned line, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	/* The analyzer of clang 14 misreads va_start here. */
	(void)vsnprintf(msg, sizeof(msg), fmt, ap); /* NOLINT */
	va_end(ap);
	(void)snprintf(c->err, c->errlen, "%s:%u: %s", c->p->path, line, msg);
	return -1;
}

/* Adds a node; name is copied. Its index, or -1. */
static long
node_add(struct compile *c, enum node_kind kind, const char *text,
    size_t len)
{
	struct ui_page *p = c->p;
	struct node *nd;
	size_t cap;

	if (p->n == UI_NODES_MAX)
		return cerr(c, c->line, "more than %d tags and texts",
		    UI_NODES_MAX);
	if (p->n == p->cap) {
		cap = p->cap ? p->cap * 2 : 32;
		if ((nd = realloc(p->nodes, cap * sizeof(*nd))) == NULL)
			return cerr(c, c->line, "out of memory");
		p->nodes = nd;
		p->cap = cap;
	}
	nd = &p->nodes[p->n];
	memset(nd, 0, sizeof(*nd));
	nd->kind = kind;
	nd->line = c->line;
	if (kind == N_TEXT) {
		nd->text = text;
		nd->len = len;
	} else if ((nd->name = strndup(text, len)) == NULL) {
		return cerr(c, c->line, "out of memory");
	}
	return (long)p->n++;
}

static int
is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* A section opens, or closes the innermost open one. */
static int
compile_section(struct compile *c, char sigil, const char *name, size_t len)
{
	struct node *open;
	long i;

	if (sigil != '/') {
		if (c->depth == UI_NEST_MAX)
			return cerr(c, c->line, "sections nest deeper than %d",
			    UI_NEST_MAX);
		if ((i = node_add(c, sigil == '#' ? N_SECTION : N_INVERTED,
		    name, len)) == -1)
			return -1;
		c->open[c->depth++] = (size_t)i;
		return 0;
	}
	if (c->depth == 0)
		return cerr(c, c->line, "{{/%.*s}} closes no section",
		    (int)len, name);
	open = &c->p->nodes[c->open[c->depth - 1]];
	if (strlen(open->name) != len || memcmp(open->name, name, len) != 0)
		return cerr(c, c->line, "{{/%.*s}} closes {{%c%s}} of line %u",
		    (int)len, name, open->kind == N_SECTION ? '#' : '^',
		    open->name, open->line);
	open->end = c->p->n;
	c->depth--;
	return 0;
}

/* One tag: the bytes between "{{" and "}}". */
static int
compile_tag(struct compile *c, const char *t, size_t len)
{
	char name[UI_NAME_MAX + 1], sigil = '\0';

	while (len > 0 && is_blank(*t)) {
		t++;
		len--;
	}
	while (len > 0 && is_blank(t[len - 1]))
		len--;
	if (len > 0 && strchr("#^/>", *t) != NULL) {
		sigil = *t++;
		len--;
	} else if (len > 2 && t[0] == 't' && is_blank(t[1])) {
		sigil = 't';
		t += 2;
		len -= 2;
	}
	while (len > 0 && is_blank(*t)) {
		t++;
		len--;
	}
	if (len == 0 || len > UI_NAME_MAX)
		return cerr(c, c->line, "empty or overlong tag");
	memcpy(name, t, len);
	name[len] = '\0';
	if (!str_is_token(name, UI_NAME_MAX, "_.-"))
		return cerr(c, c->line, "bad tag {{%c%s}} (no unescaped "
		    "output; names are letters, digits, '_', '.', '-')",
		    sigil ? sigil : ' ', name);
	switch (sigil) {
	case '#':
	case '^':
	case '/':
		return compile_section(c, sigil, t, len);
	case '>':
		return node_add(c, N_PARTIAL, t, len) == -1 ? -1 : 0;
	case 't':
		return node_add(c, N_TEXT_KEY, t, len) == -1 ? -1 : 0;
	default:
		return node_add(c, N_VAR, t, len) == -1 ? -1 : 0;
	}
}

static int
compile_text(struct compile *c, const char *s, size_t len)
{
	size_t i;

	if (node_add(c, N_TEXT, s, len) == -1)
		return -1;
	for (i = 0; i < len; i++)
		c->line += s[i] == '\n';
	return 0;
}

/* {{! ... }} may span lines; a newline right after it goes too, so that
 * a comment on lines of its own leaves no blank line. Returns where to go
 * on, or NULL. */
static const char *
compile_comment(struct compile *c, const char *open)
{
	const char *close = strstr(open + 3, "}}"), *s;

	if (close == NULL) {
		(void)cerr(c, c->line, "{{! is never closed");
		return NULL;
	}
	for (s = open; s < close; s++)
		c->line += *s == '\n';
	s = close + 2;
	if (*s == '\n') {
		c->line++;
		s++;
	}
	return s;
}

static int
compile_page(struct ui_page *p, char *err, size_t errlen)
{
	struct compile c = { .p = p, .line = 1, .err = err, .errlen = errlen };
	const char *s = p->src, *open, *close, *nl;
	const struct node *o;

	while (*s != '\0') {
		if ((open = strstr(s, "{{")) == NULL)
			open = s + strlen(s);
		if (open > s && compile_text(&c, s, (size_t)(open - s)) == -1)
			return -1;
		if (*open == '\0')
			break;
		if (open[2] == '!') {
			if ((s = compile_comment(&c, open)) == NULL)
				return -1;
			continue;
		}
		close = strstr(open + 2, "}}");
		nl = strchr(open, '\n');
		if (close == NULL || (nl != NULL && nl < close))
			return cerr(&c, c.line, "{{ without }} on its line");
		if (compile_tag(&c, open + 2, (size_t)(close - open - 2)) ==
		    -1)
			return -1;
		s = close + 2;
	}
	if (c.depth > 0) {
		o = &p->nodes[c.open[c.depth - 1]];
		return cerr(&c, o->line, "{{%c%s}} is never closed",
		    o->kind == N_SECTION ? '#' : '^', o->name);
	}
	return 0;
}

static void
page_free(struct ui_page *p)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		free(p->nodes[i].name);
	free(p->nodes);
	free(p->name);
	free(p->path);
	free(p->src);
}

/* Reads and compiles dir/file into the next page. */
static int
page_load(struct ui *ui, const char *dir, const char *file, char *err,
    size_t errlen)
{
	struct ui_page *p = &ui->pages[ui->npages];
	size_t len, nlen = strlen(file) - 5;	/* without .html */
	char path[4096];

	if (nlen == 0 || nlen > UI_NAME_MAX) {
		(void)snprintf(err, errlen, "%s/%s: bad template name", dir, file);
		return -1;
	}
	if (ui->npages == UI_PAGES_MAX) {
		(void)snprintf(err, errlen, "%s: more than %d templates", dir,
		    UI_PAGES_MAX);
		return -1;
	}
	memset(p, 0, sizeof(*p));
	ui->npages++;
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, file) >=
	    sizeof(path) || (p->path = strdup(path)) == NULL ||
	    (p->name = strndup(file, nlen)) == NULL) {
		(void)snprintf(err, errlen, "%s/%s: bad path", dir, file);
		return -1;
	}
	if (!str_is_token(p->name, UI_NAME_MAX, "_-")) {
		(void)snprintf(err, errlen, "%s: bad template name", path);
		return -1;
	}
	if ((p->src = file_read(path, UI_FILE_MAX, &len)) == NULL) {
		(void)snprintf(err, errlen, "%s: %s", path, errno == EFBIG ?
		    "file too large" : strerror(errno));
		return -1;
	}
	if (strlen(p->src) != len) {
		(void)snprintf(err, errlen, "%s: NUL byte in template", path);
		return -1;
	}
	return compile_page(p, err, errlen);
}

static int
is_template(const char *dir, const char *file)
{
	size_t n = strlen(file);
	char path[4096];
	struct stat st;

	if (n < 5 || strcmp(file + n - 5, ".html") != 0 || file[0] == '.')
		return 0;
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, file) >=
	    sizeof(path))
		return 0;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static int
pages_load(struct ui *ui, const char *dir, char *err, size_t errlen)
{
	struct dirent *de;
	DIR *d;
	int rc = 0;

	if ((ui->pages = calloc(UI_PAGES_MAX, sizeof(*ui->pages))) == NULL) {
		(void)snprintf(err, errlen, "out of memory");
		return -1;
	}
	if ((d = opendir(dir)) == NULL) {
		(void)snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return -1;
	}
	while (rc == 0 && (de = readdir(d)) != NULL) {
		if (is_template(dir, de->d_name))
			rc = page_load(ui, dir, de->d_name, err, errlen);
	}
	closedir(d);
	return rc;
}

static long
page_find(const struct ui *ui, const char *name)
{
	size_t i;

	for (i = 0; i < ui->npages; i++) {
		if (strcmp(ui->pages[i].name, name) == 0)
			return (long)i;
	}
	return -1;
}

/* How deep partials nest under page i (memoised in depth[], -1 while
 * being visited: a cycle). -1 past UI_PARTIAL_DEPTH. */
static int
partial_depth(const struct ui *ui, size_t i, int *depth)
{
	const struct ui_page *p = &ui->pages[i];
	int d, max = 0;
	size_t k;

	if (depth[i] != 0)
		return depth[i];
	depth[i] = -1;
	for (k = 0; k < p->n; k++) {
		if (p->nodes[k].kind != N_PARTIAL)
			continue;
		if ((d = partial_depth(ui, p->nodes[k].partial, depth)) == -1)
			return -1;
		if (d > max)
			max = d;
	}
	if (max + 1 > UI_PARTIAL_DEPTH)
		return -1;
	return depth[i] = max + 1;
}

/* Resolves every {{> name}} and refuses cycles. */
static int
pages_link(struct ui *ui, char *err, size_t errlen)
{
	int depth[UI_PAGES_MAX] = { 0 };
	struct node *nd;
	size_t i, k;
	long j;

	for (i = 0; i < ui->npages; i++) {
		for (k = 0; k < ui->pages[i].n; k++) {
			nd = &ui->pages[i].nodes[k];
			if (nd->kind != N_PARTIAL)
				continue;
			if ((j = page_find(ui, nd->name)) == -1) {
				(void)snprintf(err, errlen, "%s:%u: no template "
				    "%s.html", ui->pages[i].path, nd->line,
				    nd->name);
				return -1;
			}
			nd->partial = (size_t)j;
		}
	}
	for (i = 0; i < ui->npages; i++) {
		if (partial_depth(ui, i, depth) == -1) {
			(void)snprintf(err, errlen, "%s: partials nest deeper than "
			    "%d (or include each other)", ui->pages[i].path,
			    UI_PARTIAL_DEPTH);
			return -1;
		}
	}
	return 0;
}

struct ui *
ui_load(const char *dir, char *err, size_t errlen)
{
	char path[4096];
	struct ui *ui;
	int i;

	if ((ui = calloc(1, sizeof(*ui))) == NULL) {
		(void)snprintf(err, errlen, "out of memory");
		return NULL;
	}
	for (i = 0; i < UI_NLANGS; i++) {
		(void)snprintf(path, sizeof(path), "%s/messages/%s.ini", dir,
		    ui_lang_code(i));
		if (ui_catalog_load(&ui->cat[i], path, err, errlen) == -1)
			goto fail;
	}
	if (pages_load(ui, dir, err, errlen) == -1 ||
	    pages_link(ui, err, errlen) == -1)
		goto fail;
	return ui;
fail:
	ui_free(ui);
	return NULL;
}

void
ui_free(struct ui *ui)
{
	size_t i;

	if (ui == NULL)
		return;
	for (i = 0; i < ui->npages; i++)
		page_free(&ui->pages[i]);
	free(ui->pages);
	for (i = 0; i < UI_NLANGS; i++)
		ui_catalog_free(&ui->cat[i]);
	free(ui);
}

int
ui_set(struct ui_vars *v, const char *name, const char *value)
{
	size_t i;

	if (v == NULL || name == NULL)
		return -1;
	for (i = 0; i < v->n; i++) {
		if (strcmp(v->name[i], name) == 0) {
			v->value[i] = value;
			return 0;
		}
	}
	if (v->n >= UI_VARS_MAX)
		return -1;
	v->name[v->n] = name;
	v->value[v->n] = value;
	v->n++;
	return 0;
}

static const char *
var_get(const struct render *r, const char *name)
{
	const struct ui_vars *v = r->vars;
	size_t i;

	for (i = 0; v != NULL && i < v->n && i < UI_VARS_MAX; i++) {
		if (strcmp(v->name[i], name) == 0)
			return v->value[i];
	}
	if (strcmp(name, "lang") == 0)
		return ui_lang_code(r->lang);
	if (strncmp(name, "lang_", 5) == 0 && strlen(name) == 7 &&
	    ui_lang_index(name + 5, 2) == r->lang)
		return "1";
	return NULL;
}

static int render_nodes(struct render *, const struct ui_page *, size_t,
    size_t);

static int
render_node(struct render *r, const struct ui_page *p, size_t i)
{
	const struct node *nd = &p->nodes[i];
	const char *v;

	switch (nd->kind) {
	case N_TEXT:
		return buf_append(r->out, nd->text, nd->len);
	case N_VAR:
		v = var_get(r, nd->name);
		return v != NULL ? buf_put_html(r->out, v) : 0;
	case N_TEXT_KEY:
		return buf_put_html(r->out, ui_catalog_text(r->ui, r->lang,
		    nd->name));
	case N_PARTIAL:
		if (r->partials >= UI_PARTIAL_DEPTH)
			return -1;
		r->partials++;
		p = &r->ui->pages[nd->partial];
		if (render_nodes(r, p, 0, p->n) == -1)
			return -1;
		r->partials--;
		return 0;
	default:
		v = var_get(r, nd->name);
		if ((v != NULL && *v != '\0') == (nd->kind == N_SECTION))
			return render_nodes(r, p, i + 1, nd->end);
		return 0;
	}
}

/* Nodes from..to of p; a section's block is skipped over as a whole. */
static int
render_nodes(struct render *r, const struct ui_page *p, size_t from,
    size_t to)
{
	size_t i = from;

	while (i < to) {
		if (render_node(r, p, i) == -1)
			return -1;
		if (p->nodes[i].kind == N_SECTION ||
		    p->nodes[i].kind == N_INVERTED)
			i = p->nodes[i].end;
		else
			i++;
	}
	return 0;
}

int
ui_render(const struct ui *ui, const char *page, const char *lang,
    const struct ui_vars *vars, struct buf *out)
{
	struct render r;
	size_t start;
	long i;

	if (ui == NULL || page == NULL || out == NULL ||
	    (i = page_find(ui, page)) == -1)
		return -1;
	r.ui = ui;
	r.lang = lang != NULL ? ui_lang_index(lang, strlen(lang)) : -1;
	if (r.lang == -1)
		r.lang = UI_LANG_EN;	/* as ui_text falls back */
	r.vars = vars;
	r.out = out;
	r.partials = 0;
	start = out->len;
	if (render_nodes(&r, &ui->pages[i], 0, ui->pages[i].n) == -1) {
		/* No half page: the caller answers with an error. */
		out->len = start;
		if (out->data != NULL)
			out->data[start] = '\0';
		return -1;
	}
	return 0;
}
