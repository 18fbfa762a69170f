/*
 * ui_catalog.c - the message catalogues (templates/messages/<lang>.ini)
 * and the choice of a page's language.
 *
 * Debian's inih reads lines of at most 199 bytes: a longer text goes on
 * continuation lines (indented), which are joined with a space.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <ini.h>

#include "ui_int.h"

#define CAT_KEYS_MAX 1024
#define CAT_KEY_MAX 96
#define CAT_TEXT_MAX 2048
#define LOCALES_MAX 16		/* ui_locales tags looked at */
#define ACCEPT_MAX 32		/* Accept-Language items looked at */

static const char *const lang_codes[UI_NLANGS] = { "el", "en" };

struct cat_load {
	struct ui_catalog *c;
	size_t cap;
	char last[CAT_KEY_MAX + 1];	/* for continuation lines */
	const char *why;		/* first error, for the message */
};

static struct ui_msg *
cat_find(const struct ui_catalog *c, const char *key)
{
	size_t i;

	for (i = 0; i < c->n; i++) {
		if (strcmp(c->msgs[i].key, key) == 0)
			return &c->msgs[i];
	}
	return NULL;
}

/* A continuation line: the same key again, right after itself. */
static int
cat_continue(struct ui_msg *m, const char *value)
{
	size_t a = strlen(m->text), b = strlen(value);
	char *t;

	if (a + 1 + b > CAT_TEXT_MAX ||
	    (t = realloc(m->text, a + b + 2)) == NULL)
		return -1;
	t[a] = ' ';
	memcpy(t + a + 1, value, b + 1);
	m->text = t;
	return 0;
}

static int
cat_add(struct cat_load *l, const char *key, const char *value)
{
	struct ui_catalog *c = l->c;
	struct ui_msg *m;

	if (c->n == l->cap) {
		if (l->cap == CAT_KEYS_MAX)
			return -1;
		l->cap = l->cap ? l->cap * 2 : 64;
		if ((m = realloc(c->msgs, l->cap * sizeof(*m))) == NULL)
			return -1;
		c->msgs = m;
	}
	m = &c->msgs[c->n];
	m->key = strdup(key);
	m->text = strdup(value);
	if (m->key == NULL || m->text == NULL) {
		free(m->key);
		free(m->text);
		return -1;
	}
	c->n++;
	return 0;
}

/* inih: 1 to go on, 0 for an error on this line. */
static int
cat_line(void *user, const char *section, const char *key, const char *value)
{
	struct cat_load *l = user;
	struct ui_msg *m;

	if (strcmp(section, "messages") != 0)
		l->why = "keys belong in the [messages] section";
	else if (!str_is_token(key, CAT_KEY_MAX, "._-"))
		l->why = "a key is letters, digits, '.', '_' and '-'";
	else if (*value == '\0')
		l->why = "empty text";
	if (l->why != NULL)
		return 0;
	m = cat_find(l->c, key);
	if (m != NULL && strcmp(l->last, key) != 0) {
		l->why = "the key is defined twice";
		return 0;
	}
	if ((m != NULL && cat_continue(m, value) == -1) ||
	    (m == NULL && cat_add(l, key, value) == -1)) {
		l->why = "text too long, too many keys, or out of memory";
		return 0;
	}
	str_copy(l->last, key, sizeof(l->last));
	return 1;
}

static int
msg_cmp(const void *a, const void *b)
{
	return strcmp(((const struct ui_msg *)a)->key,
	    ((const struct ui_msg *)b)->key);
}

void
ui_catalog_free(struct ui_catalog *c)
{
	size_t i;

	for (i = 0; i < c->n; i++) {
		free(c->msgs[i].key);
		free(c->msgs[i].text);
	}
	free(c->msgs);
	c->msgs = NULL;
	c->n = 0;
}

int
ui_catalog_load(struct ui_catalog *c, const char *path, char *err,
    size_t errlen)
{
	struct cat_load l;
	int rc;

	memset(&l, 0, sizeof(l));
	c->msgs = NULL;
	c->n = 0;
	l.c = c;
	rc = ini_parse(path, cat_line, &l);
	if (rc == -1)
		(void)snprintf(err, errlen, "%s: cannot open", path);
	else if (rc == -2)
		(void)snprintf(err, errlen, "%s: out of memory", path);
	else if (rc > 0)
		(void)snprintf(err, errlen, "%s:%d: %s", path, rc,
		    l.why != NULL ? l.why :
		    "not key = text (or a line over 199 bytes)");
	if (rc != 0) {
		ui_catalog_free(c);
		return -1;
	}
	qsort(c->msgs, c->n, sizeof(*c->msgs), msg_cmp);
	return 0;
}

static const char *
cat_lookup(const struct ui_catalog *c, const char *key)
{
	struct ui_msg k, *m;

	if (c->n == 0)
		return NULL;
	k.key = (char *)(uintptr_t)key;
	m = bsearch(&k, c->msgs, c->n, sizeof(*c->msgs), msg_cmp);
	return m != NULL ? m->text : NULL;
}

const char *
ui_catalog_text(const struct ui *ui, int lang, const char *key)
{
	const char *t = NULL;

	if (ui == NULL || key == NULL)
		return key != NULL ? key : "";
	if (lang >= 0 && lang < UI_NLANGS)
		t = cat_lookup(&ui->cat[lang], key);
	if (t == NULL)
		t = cat_lookup(&ui->cat[UI_LANG_EN], key);
	return t != NULL ? t : key;
}

const char *
ui_text(const struct ui *ui, const char *lang, const char *key)
{
	int i = lang != NULL ? ui_lang_index(lang, strlen(lang)) : -1;

	return ui_catalog_text(ui, i, key);
}

const char *
ui_lang_code(int lang)
{
	return lang >= 0 && lang < UI_NLANGS ? lang_codes[lang] : "el";
}

int
ui_lang_index(const char *tag, size_t len)
{
	size_t n, i;

	for (n = 0; n < len && tag[n] != '-' && tag[n] != '_'; n++)
		;
	if (n != 2)
		return -1;
	for (i = 0; i < UI_NLANGS; i++) {
		if (strncasecmp(tag, lang_codes[i], 2) == 0)
			return (int)i;
	}
	return -1;
}

/* The first supported tag of a space-separated list, or -1. */
static int
pick_locales(const char *s)
{
	size_t n, seen;
	int lang;

	for (seen = 0; *s != '\0' && seen < LOCALES_MAX; seen++) {
		s += strspn(s, " ");
		n = strcspn(s, " ");
		if (n > 0 && (lang = ui_lang_index(s, n)) != -1)
			return lang;
		s += n;
	}
	return -1;
}

/* A qvalue in thousandths ("0.8" is 800), or -1 if malformed. */
static int
parse_q(const char *s, size_t len)
{
	size_t i;
	int q, scale = 100;

	if (len == 0 || (s[0] != '0' && s[0] != '1'))
		return -1;
	q = (s[0] - '0') * 1000;
	if (len == 1)
		return q;
	if (s[1] != '.' || len > 5)
		return -1;
	for (i = 2; i < len; i++, scale /= 10) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		q += (s[i] - '0') * scale;
	}
	return q <= 1000 ? q : -1;
}

static int
is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* The q of one Accept-Language item from its parameters (";q=0.5"),
 * 1000 when there is none. */
static int
item_q(const char *p, size_t len)
{
	const char *end = p + len, *semi, *next;
	size_t n;

	while ((semi = memchr(p, ';', (size_t)(end - p))) != NULL) {
		for (p = semi + 1; p < end && is_blank(*p); p++)
			;
		next = memchr(p, ';', (size_t)(end - p));
		n = (size_t)((next != NULL ? next : end) - p);
		while (n > 0 && is_blank(p[n - 1]))
			n--;
		if (n >= 2 && (p[0] == 'q' || p[0] == 'Q') && p[1] == '=')
			return parse_q(p + 2, n - 2);
	}
	return 1000;
}

/* The supported language of highest q (the earliest on a tie), or -1.
 * q=0 means "not this one". */
static int
pick_accept(const char *s)
{
	int best = -1, bestq = 0, lang, q;
	size_t n, tl, seen;

	for (seen = 0; seen < ACCEPT_MAX; seen++) {
		s += strspn(s, " \t,");
		if ((n = strcspn(s, ",")) == 0)
			break;
		for (tl = 0; tl < n && s[tl] != ';' && !is_blank(s[tl]); tl++)
			;
		if (tl == 1 && s[0] == '*')
			lang = UI_LANG_EL;	/* anything: the house default */
		else
			lang = ui_lang_index(s, tl);
		q = item_q(s + tl, n - tl);
		if (lang != -1 && q > bestq) {
			best = lang;
			bestq = q;
		}
		s += n;
	}
	return best;
}

const char *
ui_lang_pick(const struct ui *ui, const char *ui_locales, const char *cookie,
    const char *accept_language)
{
	int lang = -1;

	(void)ui;
	if (ui_locales != NULL)
		lang = pick_locales(ui_locales);
	if (lang == -1 && cookie != NULL)
		lang = ui_lang_index(cookie, strlen(cookie));
	if (lang == -1 && accept_language != NULL)
		lang = pick_accept(accept_language);
	return ui_lang_code(lang);
}
