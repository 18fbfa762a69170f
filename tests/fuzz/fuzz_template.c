/*
 * fuzz_template.c - the template compiler and renderer over arbitrary
 * template text: the input becomes page.html in a temporary templates
 * folder (beside a fixed partial p.html and small catalogues), the folder
 * is loaded with ui_load as the server loads templates/, and a page that
 * compiles is rendered in both languages with a few variables set.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"
#include "ui/ui.h"
#include "util/util.h"

#define RENDER_MAX ((size_t)256 * 1024)

static char dir[64];
static char page[128];

static void
remove_dir(void)
{
	char cmd[128];

	(void)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		(void)fprintf(stderr, "fuzz_template: cannot remove %s\n", dir);
}

static void
put(const char *name, const char *text)
{
	char path[128];

	(void)snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (file_write(path, text, strlen(text), 0600, 0) != 0)
		abort();
}

static void
make_dir(void)
{
	char sub[96];

	str_copy(dir, "/tmp/kleidi-fuzz-template-XXXXXX", sizeof(dir));
	if (mkdtemp(dir) == NULL)
		abort();
	if (atexit(remove_dir) != 0)
		abort();
	(void)snprintf(sub, sizeof(sub), "%s/messages", dir);
	if (mkdir(sub, 0700) != 0)
		abort();
	put("messages/el.ini", "[messages]\ntitle = Σύνδεση\nhello = Γεια\n");
	put("messages/en.ini", "[messages]\ntitle = Sign in\nhello = Hi\n");
	put("p.html", "<p>{{name}} {{t hello}}{{#x}}!{{/x}}</p>\n");
	(void)snprintf(page, sizeof(page), "%s/page.html", dir);
}

/* The oracle: a variable's value never reaches the page unescaped. The
 * page is rendered twice, with the variable set to a value that holds the
 * marker "<Maria" and to one of the same shape that cannot form any part of
 * it; the template's own text (trusted, copied as it is) may spell the
 * marker, even in pieces joined across tags that render empty, but it does
 * so the same number of times in both renderings. Neither value's escaped
 * form begins or ends with a character of the marker, so no joining of text
 * and value spells it either. */
static size_t
render_count(const struct ui *ui, const char *lang, const char *name)
{
	static const char marker[] = "<Maria";
	struct ui_vars vars;
	struct buf out;
	const char *s;
	size_t n = 0;

	memset(&vars, 0, sizeof(vars));
	if (ui_set(&vars, "name", name) == -1 ||
	    ui_set(&vars, "x", "1") == -1 || ui_set(&vars, "empty", "") == -1)
		abort();
	buf_init(&out, RENDER_MAX);
	(void)ui_render(ui, "page", lang, &vars, &out);
	for (s = out.data; s != NULL && (s = strstr(s, marker)) != NULL;
	    s += sizeof(marker) - 1)
		n++;
	buf_free(&out);
	return n;
}

static void
render(const struct ui *ui, const char *lang)
{
	if (render_count(ui, lang, "<Maria & \"Nikos\">") !=
	    render_count(ui, lang, "#Xxxxx # #Xxxxx##"))
		abort();	/* a variable escaped nothing */
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[512];
	struct ui *ui;
	FILE *f;

	if (dir[0] == '\0')
		make_dir();
	/* Not file_write: its fsync would make this 50 times slower. */
	if ((f = fopen(page, "wb")) == NULL ||
	    fwrite(data, 1, size, f) != size || fclose(f) != 0)
		abort();
	if ((ui = ui_load(dir, err, sizeof(err))) == NULL)
		return 0;
	render(ui, "el");
	render(ui, "en");
	ui_free(ui);
	return 0;
}
