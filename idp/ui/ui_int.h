/*
 * ui_int.h - what ui_template.c and ui_catalog.c share; not for use
 * outside idp/ui/.
 */
#ifndef KLEIDI_UI_INT_H
#define KLEIDI_UI_INT_H

#include <stddef.h>

#include "ui.h"

/* Supported page languages, by index. */
enum ui_lang { UI_LANG_EL = 0, UI_LANG_EN = 1, UI_NLANGS = 2 };

struct ui_msg {
	char *key;
	char *text;
};

/* One language's messages, sorted by key. */
struct ui_catalog {
	struct ui_msg *msgs;
	size_t n;
};

struct ui_page;			/* a compiled template (ui_template.c) */

struct ui {
	struct ui_page *pages;
	size_t npages;
	struct ui_catalog cat[UI_NLANGS];
};

/* Reads path (inih, one [messages] section). -1 with err naming the file
 * and line. */
int ui_catalog_load(struct ui_catalog *c, const char *path, char *err,
    size_t errlen);
void ui_catalog_free(struct ui_catalog *c);
/* The text of key in language lang (an enum ui_lang), falling back to
 * English and then to the key itself. */
const char *ui_catalog_text(const struct ui *ui, int lang, const char *key);
/* The enum ui_lang of a tag's primary subtag ("en-GB" is English), or -1.
 * Reads at most len bytes. */
int ui_lang_index(const char *tag, size_t len);
const char *ui_lang_code(int lang);

#endif
