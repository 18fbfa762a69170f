/*
 * ui.h - HTML pages from templates/ and the message catalogues (el, en).
 * Templates are read and compiled once at start-up; rendering touches no
 * file. No user-facing text lives in C: pages take their words from the
 * catalogues.
 *
 * Template syntax (a small subset of mustache):
 *   {{name}}            value of variable name, HTML-escaped
 *   {{#name}}...{{/name}}  the block if name is set and non-empty
 *   {{^name}}...{{/name}}  the block if name is unset or empty
 *   {{t key}}           catalogue text for key in the page's language,
 *                       HTML-escaped (missing key: the key itself)
 *   {{> partial}}       another template (templates/partial.html)
 *   {{! comment }}      nothing (may span lines)
 * There is no unescaped output. Two variables are always defined unless
 * the handler sets them: {{lang}} (the page language) and {{lang_el}} /
 * {{lang_en}} ("1" for the page language), for the language switcher.
 *
 * Files: templates/<page>.html, templates/messages/<lang>.ini (inih, one
 * [messages] section of key = text), templates/static/ (CSS).
 */
#ifndef KLEIDI_UI_H
#define KLEIDI_UI_H

#include <stddef.h>
#include "util/util.h"

#define UI_VARS_MAX 48

struct ui;

struct ui_vars {
	const char *name[UI_VARS_MAX];
	const char *value[UI_VARS_MAX];
	size_t n;
};

/* Loads every template and catalogue under dir. NULL on error with err
 * naming the file and line. */
struct ui *ui_load(const char *dir, char *err, size_t errlen);
void ui_free(struct ui *ui);	/* NULL is a no-op */

/* Adds (or replaces) a variable; values are borrowed until render. Returns
 * -1 when UI_VARS_MAX is reached. */
int ui_set(struct ui_vars *v, const char *name, const char *value);

/* Renders page (file name without .html) in lang into out. -1 if the page
 * does not exist or out's limit is reached. */
int ui_render(const struct ui *ui, const char *page, const char *lang,
    const struct ui_vars *vars, struct buf *out);

/* Catalogue text for key in lang (falls back to en, then to key). Borrowed:
 * lives as long as ui. */
const char *ui_text(const struct ui *ui, const char *lang, const char *key);

/* Picks the page language: the first supported tag of ui_locales
 * (space-separated), else the cookie value, else the best Accept-Language
 * match, else "el". Returns a borrowed static string ("el" or "en"). */
const char *ui_lang_pick(const struct ui *ui, const char *ui_locales,
    const char *cookie, const char *accept_language);

#endif
