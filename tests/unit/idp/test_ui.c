/*
 * test_ui.c - the template renderer, the catalogues, the language choice,
 * and the real pages under templates/.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ini.h>

#include "ui/ui.h"

#define TEMPLATES KLEIDI_SOURCE_DIR "/templates"

static const char en_ini[] =
    "[messages]\n"
    "hello = Hello\n"
    "only.en = English only\n"
    "html = a < b & \"c\"\n"
    "long = first part\n"
    "    second part\n";
static const char el_ini[] =
    "[messages]\n"
    "; a comment\n"
    "hello = Γεια σας\n"
    "html = α < β\n"
    "long = πρώτο\n";

/* ---- a scratch template folder */

static char scratch[64];

static void
put(const char *rel, const char *data)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", scratch, rel);
	assert_non_null(f = fopen(path, "w"));
	assert_int_equal(fputs(data, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* A fresh folder with both catalogues and the given pages (name, text,
 * name, text, ..., NULL). */
static void
scratch_make(const char *name, ...)
{
	char path[128];
	va_list ap;

	if (scratch[0] != '\0')
		(void)nftw(scratch, rm_one, 8, FTW_DEPTH | FTW_PHYS);
	strcpy(scratch, "/tmp/kleidi-ui-XXXXXX");
	assert_non_null(mkdtemp(scratch));
	snprintf(path, sizeof(path), "%s/messages", scratch);
	assert_int_equal(mkdir(path, 0700), 0);
	put("messages/en.ini", en_ini);
	put("messages/el.ini", el_ini);
	va_start(ap, name);
	for (; name != NULL; name = va_arg(ap, const char *))
		put(name, va_arg(ap, const char *));
	va_end(ap);
}

static int
scratch_teardown(void **st)
{
	(void)st;
	if (scratch[0] != '\0')
		(void)nftw(scratch, rm_one, 8, FTW_DEPTH | FTW_PHYS);
	scratch[0] = '\0';
	return 0;
}

static struct ui *
scratch_load(void)
{
	char err[512];
	struct ui *ui;

	ui = ui_load(scratch, err, sizeof(err));
	if (ui == NULL)
		fail_msg("ui_load: %s", err);
	return ui;
}

/* ui_load must fail, and err must hold every one of the fragments. */
static void
scratch_refused(const char *frag1, const char *frag2)
{
	char err[512] = "";

	assert_null(ui_load(scratch, err, sizeof(err)));
	if (strstr(err, frag1) == NULL || (frag2 != NULL &&
	    strstr(err, frag2) == NULL))
		fail_msg("error \"%s\" lacks \"%s\" / \"%s\"", err, frag1,
		    frag2 ? frag2 : "");
}

static char *
render(const struct ui *ui, const char *page, const char *lang,
    const struct ui_vars *v)
{
	struct buf b;

	buf_init(&b, 1 << 20);
	assert_int_equal(ui_render(ui, page, lang, v, &b), 0);
	if (b.data == NULL)
		assert_int_equal(buf_puts(&b, ""), 0);
	return buf_steal(&b);
}

static size_t
count(const char *hay, const char *needle)
{
	size_t n = 0;

	for (; (hay = strstr(hay, needle)) != NULL; hay += strlen(needle))
		n++;
	return n;
}

/* ---- the renderer */

static void
test_escaping(void **st)
{
	struct ui_vars v = { .n = 0 };
	struct ui *ui;
	char *out;

	(void)st;
	scratch_make("p.html", "<p title=\"{{x}}\">{{x}}</p>[{{missing}}]"
	    "{{ x }}", NULL);
	ui = scratch_load();
	assert_int_equal(ui_set(&v, "x", "<script>alert('x')</script>&\""),
	    0);
	out = render(ui, "p", "en", &v);
	assert_string_equal(out, "<p title=\"&lt;script&gt;alert(&#39;x&#39;)"
	    "&lt;/script&gt;&amp;&quot;\">&lt;script&gt;alert(&#39;x&#39;)"
	    "&lt;/script&gt;&amp;&quot;</p>[]&lt;script&gt;alert(&#39;x&#39;)"
	    "&lt;/script&gt;&amp;&quot;");
	free(out);
	ui_free(ui);
}

static void
test_sections(void **st)
{
	struct ui_vars v = { .n = 0 };
	struct ui *ui;
	char *out;

	(void)st;
	scratch_make("s.html", "{{#a}}A{{#b}}B{{/b}}{{^b}}!B{{/b}}{{/a}}"
	    "{{^a}}!A{{/a}}{{#e}}E{{/e}}{{^e}}!E{{/e}}"
	    "{{^u}}!U{{/u}}{{#u}}U{{/u}}{{! gone }}.", NULL);
	ui = scratch_load();
	assert_int_equal(ui_set(&v, "a", "1"), 0);
	assert_int_equal(ui_set(&v, "e", ""), 0);
	assert_int_equal(ui_set(&v, "n", NULL), 0);
	out = render(ui, "s", "en", &v);
	assert_string_equal(out, "A!B!E!U.");
	free(out);
	assert_int_equal(ui_set(&v, "b", "yes"), 0);
	assert_int_equal(ui_set(&v, "a", ""), 0);	/* replaces */
	assert_int_equal(v.n, 4);
	out = render(ui, "s", "en", &v);
	assert_string_equal(out, "!A!E!U.");
	free(out);
	out = render(ui, "s", "en", NULL);
	assert_string_equal(out, "!A!E!U.");
	free(out);
	ui_free(ui);
}

static void
test_text_keys(void **st)
{
	struct ui *ui;
	char *out;

	(void)st;
	scratch_make("t.html", "{{t hello}}|{{t only.en}}|{{t nope.key}}|"
	    "{{t html}}|{{t long}}", NULL);
	ui = scratch_load();
	out = render(ui, "t", "el", NULL);
	assert_string_equal(out, "Γεια σας|English only|nope.key|"
	    "α &lt; β|πρώτο");
	free(out);
	out = render(ui, "t", "en", NULL);
	assert_string_equal(out, "Hello|English only|nope.key|"
	    "a &lt; b &amp; &quot;c&quot;|first part second part");
	free(out);
	/* An unsupported language reads English. */
	out = render(ui, "t", "fr", NULL);
	assert_string_equal(out, "Hello|English only|nope.key|"
	    "a &lt; b &amp; &quot;c&quot;|first part second part");
	free(out);
	assert_string_equal(ui_text(ui, "el", "hello"), "Γεια σας");
	assert_string_equal(ui_text(ui, "el", "only.en"), "English only");
	assert_string_equal(ui_text(ui, "en", "missing"), "missing");
	assert_string_equal(ui_text(ui, NULL, "hello"), "Hello");
	ui_free(ui);
}

static void
test_partials_and_builtins(void **st)
{
	struct ui_vars v = { .n = 0 };
	struct ui *ui;
	char *out;

	(void)st;
	scratch_make("page.html", "<{{> _part}}>{{lang}}",
	    "_part.html", "[{{x}}|{{lang_el}}|{{lang_en}}|{{> _inner}}]",
	    "_inner.html", "{{t hello}}", NULL);
	ui = scratch_load();
	assert_int_equal(ui_set(&v, "x", "&"), 0);
	out = render(ui, "page", "el", &v);
	assert_string_equal(out, "<[&amp;|1||Γεια σας]>el");
	free(out);
	out = render(ui, "page", "en", &v);
	assert_string_equal(out, "<[&amp;||1|Hello]>en");
	free(out);
	/* The handler's lang wins over the built-in. */
	assert_int_equal(ui_set(&v, "lang", "en"), 0);
	out = render(ui, "page", "el", &v);
	assert_string_equal(out, "<[&amp;|1||Γεια σας]>en");
	free(out);
	ui_free(ui);
}

static void
test_render_limits(void **st)
{
	struct ui_vars v = { .n = 0 };
	char name[UI_VARS_MAX][8];
	struct ui *ui;
	struct buf b;
	size_t i;

	(void)st;
	scratch_make("p.html", "0123456789{{x}}", NULL);
	ui = scratch_load();
	buf_init(&b, 16);
	assert_int_equal(buf_puts(&b, "keep"), 0);
	assert_int_equal(ui_set(&v, "x", "too long for it"), 0);
	assert_int_equal(ui_render(ui, "p", "en", &v, &b), -1);
	assert_string_equal(b.data, "keep");	/* no half page */
	assert_int_equal(ui_render(ui, "nope", "en", &v, &b), -1);
	assert_int_equal(ui_render(ui, "../p", "en", &v, &b), -1);
	buf_free(&b);
	ui_free(ui);
	v.n = 0;
	for (i = 0; i < UI_VARS_MAX; i++) {
		snprintf(name[i], sizeof(name[i]), "v%zu", i);
		assert_int_equal(ui_set(&v, name[i], "x"), 0);
	}
	assert_int_equal(ui_set(&v, "one.more", "x"), -1);
	assert_int_equal(ui_set(&v, "v3", "y"), 0);	/* replacing works */
	assert_int_equal(ui_set(&v, NULL, "y"), -1);
	ui_free(NULL);
}

static void
test_bad_templates(void **st)
{
	(void)st;
	scratch_make("bad.html", "line one\n{{#a}}\nno end\n", NULL);
	scratch_refused("bad.html:2:", "never closed");
	scratch_make("bad.html", "{{#a}}{{#b}}\n{{/a}}{{/b}}", NULL);
	scratch_refused("bad.html:2:", "{{/a}} closes {{#b}} of line 1");
	scratch_make("bad.html", "x\n\n{{/a}}", NULL);
	scratch_refused("bad.html:3:", "closes no section");
	scratch_make("bad.html", "ok\n{{{raw}}}", NULL);
	scratch_refused("bad.html:2:", "no unescaped output");
	scratch_make("bad.html", "{{x\n}}", NULL);
	scratch_refused("bad.html:1:", "without }}");
	scratch_make("bad.html", "{{}}", NULL);
	scratch_refused("bad.html:1:", NULL);
	scratch_make("bad.html", "{{x y}}", NULL);
	scratch_refused("bad.html:1:", NULL);
	scratch_make("bad.html", "{{! never closed", NULL);
	scratch_refused("bad.html:1:", NULL);
	scratch_make("bad.html", "a\n{{> _none}}", NULL);
	scratch_refused("bad.html:2:", "no template _none.html");
	scratch_make("_a.html", "{{> _b}}", "_b.html", "{{> _a}}", NULL);
	scratch_refused("include each other", NULL);
	scratch_make("_a.html", "{{> _a}}", NULL);
	scratch_refused("_a.html", "include each other");
	scratch_make("bad name.html", "x", NULL);
	scratch_refused("bad template name", NULL);
}

static void
test_bad_catalogues(void **st)
{
	char err[256];

	(void)st;
	scratch_make(NULL);
	put("messages/en.ini", "[messages]\na = 1\nb = 2\na = 3\n");
	scratch_refused("en.ini:4:", "defined twice");
	scratch_make(NULL);
	put("messages/el.ini", "a = outside\n");
	scratch_refused("el.ini:1:", "[messages]");
	scratch_make(NULL);
	put("messages/en.ini", "[messages]\nbad key! = 1\n");
	scratch_refused("en.ini:2:", NULL);
	scratch_make(NULL);
	put("messages/en.ini", "[messages]\nnot a pair\n");
	scratch_refused("en.ini:2:", NULL);
	scratch_make(NULL);
	put("messages/en.ini", "[messages]\nempty =\n");
	scratch_refused("en.ini:2:", "empty");
	scratch_make(NULL);
	assert_int_equal(remove(strcat(strcpy(err, scratch),
	    "/messages/el.ini")), 0);
	scratch_refused("el.ini", "cannot open");
	assert_null(ui_load("/nonexistent/kleidi", err, sizeof(err)));
}

/* ---- language choice */

static void
test_lang_pick(void **st)
{
	(void)st;
	assert_string_equal(ui_lang_pick(NULL, NULL, NULL, NULL), "el");
	assert_string_equal(ui_lang_pick(NULL, "", "", ""), "el");
	/* ui_locales first, the first supported tag of it */
	assert_string_equal(ui_lang_pick(NULL, "fr-CA en-GB el", "el",
	    "el"), "en");
	assert_string_equal(ui_lang_pick(NULL, "  EL  ", "en", "en"), "el");
	assert_string_equal(ui_lang_pick(NULL, "fr de", "en", "el"), "en");
	assert_string_equal(ui_lang_pick(NULL, "eng enx e", NULL, NULL),
	    "el");
	/* then the cookie */
	assert_string_equal(ui_lang_pick(NULL, NULL, "en", "el"), "en");
	assert_string_equal(ui_lang_pick(NULL, NULL, "xx", "en"), "en");
	/* then Accept-Language, by q */
	assert_string_equal(ui_lang_pick(NULL, NULL, NULL,
	    "en-US,en;q=0.9,el;q=0.8"), "en");
	assert_string_equal(ui_lang_pick(NULL, NULL, NULL,
	    "fr, en;q=0.5, el;q=0.7"), "el");
	assert_string_equal(ui_lang_pick(NULL, NULL, NULL,
	    "el;q=0.3, en-gb ; q=0.31"), "en");
	assert_string_equal(ui_lang_pick(NULL, NULL, NULL, "de, en;q=0"),
	    "el");
	assert_string_equal(ui_lang_pick(NULL, NULL, NULL,
	    "en;q=0.5, el;q=0.5"), "en");	/* a tie: the first */
	assert_string_equal(ui_lang_pick(NULL, NULL, NULL,
	    "en;q=2, el;q=0.1"), "el");		/* malformed q: ignored */
	assert_string_equal(ui_lang_pick(NULL, NULL, NULL,
	    "en;q=0.5x, en-GB;level=1;q=0.2"), "en");
	assert_string_equal(ui_lang_pick(NULL, NULL, NULL, "de, *;q=0.1"),
	    "el");
	assert_string_equal(ui_lang_pick(NULL, NULL, NULL, ",,;,,;q=1"),
	    "el");
}

/* ---- the real templates */

struct keys {
	char *k[512];
	size_t n;
};

static int
collect_key(void *user, const char *section, const char *name,
    const char *value)
{
	struct keys *ks = user;
	size_t i;

	(void)section;
	(void)value;
	for (i = 0; i < ks->n; i++) {
		if (strcmp(ks->k[i], name) == 0)
			return 1;	/* a continuation line */
	}
	if (ks->n == 512)
		return 0;
	ks->k[ks->n++] = strdup(name);
	return 1;
}

static int
has_key(const struct keys *ks, const char *key)
{
	size_t i;

	for (i = 0; i < ks->n; i++) {
		if (strcmp(ks->k[i], key) == 0)
			return 1;
	}
	return 0;
}

static void
keys_free(struct keys *ks)
{
	while (ks->n > 0)
		free(ks->k[--ks->n]);
}

static void
test_catalogues_match(void **st)
{
	struct keys en = { .n = 0 }, el = { .n = 0 };
	size_t i;

	(void)st;
	assert_int_equal(ini_parse(TEMPLATES "/messages/en.ini", collect_key,
	    &en), 0);
	assert_int_equal(ini_parse(TEMPLATES "/messages/el.ini", collect_key,
	    &el), 0);
	assert_true(en.n > 40);
	for (i = 0; i < en.n; i++) {
		if (!has_key(&el, en.k[i]))
			fail_msg("el.ini lacks %s", en.k[i]);
	}
	for (i = 0; i < el.n; i++) {
		if (!has_key(&en, el.k[i]))
			fail_msg("en.ini lacks %s", el.k[i]);
	}
	keys_free(&en);
	keys_free(&el);
}

/* Every {{t key}} of every page exists in both languages, so no page ever
 * shows a bare key. */
static void
test_template_keys_exist(void **st)
{
	static const char *pages[] = { "_head", "_foot", "login", "otp",
	    "error" };
	struct keys en = { .n = 0 }, el = { .n = 0 };
	char path[256], key[128], *src, *p;
	size_t i, len, n;

	(void)st;
	assert_int_equal(ini_parse(TEMPLATES "/messages/en.ini", collect_key,
	    &en), 0);
	assert_int_equal(ini_parse(TEMPLATES "/messages/el.ini", collect_key,
	    &el), 0);
	for (i = 0; i < sizeof(pages) / sizeof(pages[0]); i++) {
		snprintf(path, sizeof(path), TEMPLATES "/%s.html", pages[i]);
		assert_non_null(src = file_read(path, 1 << 16, &len));
		for (p = src; (p = strstr(p, "{{t ")) != NULL; p += n) {
			p += 4;
			n = strcspn(p, "}");
			assert_true(n < sizeof(key));
			memcpy(key, p, n);
			key[n] = '\0';
			if (!has_key(&en, key) || !has_key(&el, key))
				fail_msg("%s: key %s missing", path, key);
		}
		free(src);
	}
	keys_free(&en);
	keys_free(&el);
}

static struct ui *
real_load(void)
{
	char err[512];
	struct ui *ui;

	if ((ui = ui_load(TEMPLATES, err, sizeof(err))) == NULL)
		fail_msg("ui_load: %s", err);
	return ui;
}

static void
test_login_hostile(void **st)
{
	struct ui_vars v = { .n = 0 };
	struct ui *ui;
	char *out;

	(void)st;
	ui = real_load();
	ui_set(&v, "lang", "el");
	ui_set(&v, "action", "/authorize?flow=a&b=\"c\"");
	ui_set(&v, "csrf", "tok\"><script>alert(1)</script>");
	ui_set(&v, "app_name", "<img src=x onerror=alert(1)>Payroll");
	ui_set(&v, "org_name", "Δήμος <b>Αθηναίων</b>");
	ui_set(&v, "username", "\"><script>alert(1)</script><form x=\"");
	ui_set(&v, "error", "<script>steal()</script></div><form>");
	ui_set(&v, "lang_en_url", "/authorize?x=1&ui_locales=en");
	ui_set(&v, "page_title", "</title><script>");
	out = render(ui, "login", "el", &v);
	assert_int_equal(count(out, "<form"), 1);
	assert_int_equal(count(out, "<input"), 3);
	assert_int_equal(count(out, "name=\"username\""), 1);
	assert_int_equal(count(out, "name=\"password\""), 1);
	assert_int_equal(count(out, "name=\"csrf\""), 1);
	assert_int_equal(count(out, "type=\"hidden\""), 1);
	assert_int_equal(count(out, "<button type=\"submit\""), 1);
	assert_int_equal(count(out, "<h1>"), 1);
	assert_int_equal(count(out, "<main"), 1);
	assert_null(strcasestr(out, "<script"));
	assert_null(strcasestr(out, "<img"));
	assert_null(strcasestr(out, "<b>"));
	assert_null(strstr(out, "style="));
	assert_non_null(strstr(out, "<form method=\"post\" action=\""
	    "/authorize?flow=a&amp;b=&quot;c&quot;\">"));
	assert_non_null(strstr(out, "<html lang=\"el\">"));
	assert_non_null(strstr(out, "role=\"alert\""));
	assert_non_null(strstr(out, "&lt;script&gt;steal()"));
	assert_non_null(strstr(out, "Σύνδεση στην εφαρμογή"));
	assert_non_null(strstr(out, "autocomplete=\"username\""));
	assert_non_null(strstr(out, "autocomplete=\"current-password\""));
	/* A prefilled username: the focus goes to the password. */
	assert_int_equal(count(out, "autofocus"), 1);
	assert_non_null(strstr(out, "current-password\" required autofocus"));
	/* The switcher: Greek is current, English a link. */
	assert_non_null(strstr(out, "<span aria-current=\"true\" lang=\"el\">"
	    "Ελληνικά</span>"));
	assert_non_null(strstr(out, "<a href=\"/authorize?x=1&amp;"
	    "ui_locales=en\" hreflang=\"en\" lang=\"en\">English</a>"));
	free(out);
	ui_free(ui);
}

static void
test_login_plain(void **st)
{
	struct ui_vars v = { .n = 0 };
	struct ui *ui;
	char *out;

	(void)st;
	ui = real_load();
	ui_set(&v, "action", "/authorize");
	ui_set(&v, "csrf", "c");
	out = render(ui, "login", "en", &v);
	assert_int_equal(count(out, "<form"), 1);
	assert_null(strstr(out, "role=\"alert\""));
	assert_non_null(strstr(out, "<html lang=\"en\">"));
	assert_non_null(strstr(out, "<h1>Sign in</h1>"));
	assert_non_null(strstr(out, "<label for=\"username\">Username</label>"));
	assert_non_null(strstr(out, "<label for=\"password\">Password</label>"));
	assert_int_equal(count(out, "autofocus"), 1);
	assert_non_null(strstr(out, "spellcheck=\"false\" required autofocus"));
	assert_non_null(strstr(out, "<link rel=\"stylesheet\" "
	    "href=\"/static/style.css\">"));
	assert_int_equal(count(out, "<!DOCTYPE html>"), 1);
	assert_null(strstr(out, "{{"));
	free(out);
	ui_free(ui);
}

static void
test_otp_and_error_pages(void **st)
{
	struct ui_vars v = { .n = 0 };
	struct ui *ui;
	char *out;

	(void)st;
	ui = real_load();
	ui_set(&v, "action", "/login/otp");
	ui_set(&v, "csrf", "c");
	ui_set(&v, "method_hint", ui_text(ui, "el", "otp.hint.sms"));
	ui_set(&v, "method", "sms");
	ui_set(&v, "numeric", "1");
	ui_set(&v, "can_resend", "1");
	out = render(ui, "otp", "el", &v);
	assert_int_equal(count(out, "<form"), 1);
	assert_int_equal(count(out, "<input"), 3);	/* csrf, method, otp */
	assert_non_null(strstr(out, "name=\"otp\""));
	assert_non_null(strstr(out, "name=\"method\" value=\"sms\""));
	assert_non_null(strstr(out, "inputmode=\"numeric\""));
	assert_non_null(strstr(out, "autocomplete=\"one-time-code\""));
	assert_non_null(strstr(out, "pattern=\"[0-9 ]*\""));
	/* resend is a second button of the same form, no script */
	assert_non_null(strstr(out, "name=\"switch\" value=\"sms\""));
	assert_null(strstr(out, "<script"));
	assert_non_null(strstr(out, "name=\"csrf\" value=\"c\""));
	assert_non_null(strstr(out, "SMS"));
	free(out);

	v.n = 0;
	ui_set(&v, "title", ui_text(ui, "en", "error.unknown_client.title"));
	ui_set(&v, "message", "<b>x</b>");
	ui_set(&v, "back_url", "https://app.example/?a=1&b=2");
	out = render(ui, "error", "en", &v);
	assert_non_null(strstr(out, "<h1>Unknown application</h1>"));
	assert_non_null(strstr(out, "&lt;b&gt;x&lt;/b&gt;"));
	assert_non_null(strstr(out, "href=\"https://app.example/?a=1&amp;"
	    "b=2\""));
	assert_null(strstr(out, "<form"));
	free(out);
	v.n = 0;
	out = render(ui, "error", "el", &v);
	assert_non_null(strstr(out, "<h1>Κάτι πήγε στραβά</h1>"));
	assert_null(strstr(out, "class=\"button\""));
	free(out);
	ui_free(ui);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_escaping, scratch_teardown),
		cmocka_unit_test_teardown(test_sections, scratch_teardown),
		cmocka_unit_test_teardown(test_text_keys, scratch_teardown),
		cmocka_unit_test_teardown(test_partials_and_builtins,
		    scratch_teardown),
		cmocka_unit_test_teardown(test_render_limits,
		    scratch_teardown),
		cmocka_unit_test_teardown(test_bad_templates,
		    scratch_teardown),
		cmocka_unit_test_teardown(test_bad_catalogues,
		    scratch_teardown),
		cmocka_unit_test(test_lang_pick),
		cmocka_unit_test(test_catalogues_match),
		cmocka_unit_test(test_template_keys_exist),
		cmocka_unit_test(test_login_hostile),
		cmocka_unit_test(test_login_plain),
		cmocka_unit_test(test_otp_and_error_pages),
	};

	return cmocka_run_group_tests_name("ui", tests, NULL, NULL);
}
