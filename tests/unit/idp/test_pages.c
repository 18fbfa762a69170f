/* test_pages.c - every page text the C code asks for exists in every
 * language (a missing key would show the person the key itself). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "oidc/oidc.h"

static const char *const langs[] = { "el", "en" };
/* Texts the handlers take from the catalogue directly. */
static const char *const handler_keys[] = { "login.title",
	"login.error.invalid", "login.error.required", "login.error.locked",
	"otp.title", "otp.hint.totp", "otp.hint.sms", "otp.hint.recovery",
	"otp.notice.sent", "otp.notice.wait", "otp.error.invalid",
	"otp.error.expired", "otp.error.required", "otp.error.sms_capped",
	"otp.error.sms_failed", "account.title", "account.heading",
	"account.totp.need_2fa", "account.totp.wrong", "account.totp.done",
	"account.password.done", "account.password.error.required",
	"account.password.error.mismatch", "account.password.error.wrong",
	"account.password.error.short", "account.password.error.long",
	"account.password.error.common", "account.password.error.username",
	"account.sessions.one", "account.sessions.two",
	"logout.done.heading", "register.title", "verify.title",
	"verify.hint", NULL };

static void
test_error_pages_have_texts(void **state)
{
	static const char *const parts[] = { "title", "message", "hint" };
	struct ui *ui;
	char err[256], key[128];
	size_t i, l, p;

	(void)state;
	ui = ui_load(KLEIDI_SOURCE_DIR "/templates", err, sizeof(err));
	assert_non_null(ui);
	for (l = 0; l < 2; l++) {
		for (i = 0; page_errors[i] != NULL; i++)
			for (p = 0; p < 3; p++) {
				snprintf(key, sizeof(key), "error.%s.%s",
				    page_errors[i], parts[p]);
				if (strcmp(ui_text(ui, langs[l], key), key) == 0)
					fail_msg("%s: no text for %s",
					    langs[l], key);
			}
		for (i = 0; handler_keys[i] != NULL; i++)
			assert_string_not_equal(ui_text(ui, langs[l],
			    handler_keys[i]), handler_keys[i]);
	}
	/* Greek really is Greek, not the English fallback. */
	assert_string_not_equal(ui_text(ui, "el", "error.csrf.title"),
	    ui_text(ui, "en", "error.csrf.title"));
	ui_free(ui);
}

/* Every {{t key}} of every template has a text in both languages, and
 * the Greek one is not the English one. */
static void
test_templates_keys_exist(void **state)
{
	static const char *const pages[] = { "_head", "_foot", "login", "otp",
		"account", "register", "verify", "consent", "logged_out",
		"error", NULL };
	struct ui *ui;
	char err[256], path[512], key[128], *p, *e;
	static char text[65536];
	size_t i, n, l;
	FILE *f;

	(void)state;
	ui = ui_load(KLEIDI_SOURCE_DIR "/templates", err, sizeof(err));
	assert_non_null(ui);
	for (i = 0; pages[i] != NULL; i++) {
		snprintf(path, sizeof(path), "%s/templates/%s.html",
		    KLEIDI_SOURCE_DIR, pages[i]);
		assert_non_null(f = fopen(path, "r"));
		n = fread(text, 1, sizeof(text) - 1, f);
		text[n] = '\0';
		(void)fclose(f);
		for (p = text; (p = strstr(p, "{{t ")) != NULL; p = e) {
			p += 4;
			assert_non_null(e = strstr(p, "}}"));
			assert_true((size_t)(e - p) < sizeof(key));
			memcpy(key, p, (size_t)(e - p));
			key[e - p] = '\0';
			for (l = 0; l < 2; l++)
				if (strcmp(ui_text(ui, langs[l], key), key) ==
				    0)
					fail_msg("%s.html: no %s text for %s",
					    pages[i], langs[l], key);
			if (strncmp(key, "lang.", 5) != 0 &&
			    strcmp(key, "brand.name") != 0 &&
			    strcmp(ui_text(ui, "el", key), ui_text(ui, "en",
			    key)) == 0)
				fail_msg("%s.html: %s is not translated",
				    pages[i], key);
		}
	}
	ui_free(ui);
}

/* The language switcher's route sends back only to this server. */
static void
test_back_ok(void **state)
{
	static const char *const good[] = { "/", "/account",
		"/authorize?client_id=a&ui_locales=el",
		"/authorize?redirect_uri=https%3A%2F%2Fapp.example%2Fcb", NULL };
	static const char *const bad[] = { "", "account", "//evil.example",
		"/\\evil.example", "/\\/evil", "https://evil.example/",
		"/a b", "/a\r\nSet-Cookie: x=1", "/\x7f", "/caf\xc3\xa9",
		"javascript:alert(1)", NULL };
	char longer[PAGE_BACK_MAX + 2];
	size_t i;

	(void)state;
	for (i = 0; good[i] != NULL; i++)
		if (!page_back_ok(good[i]))
			fail_msg("refused %s", good[i]);
	for (i = 0; bad[i] != NULL; i++)
		if (page_back_ok(bad[i]))
			fail_msg("accepted %s", bad[i]);
	assert_false(page_back_ok(NULL));
	memset(longer, 'a', sizeof(longer) - 1);
	longer[0] = '/';
	longer[sizeof(longer) - 1] = '\0';
	assert_false(page_back_ok(longer));
	longer[PAGE_BACK_MAX - 1] = '\0';
	assert_true(page_back_ok(longer));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_error_pages_have_texts),
		cmocka_unit_test(test_templates_keys_exist),
		cmocka_unit_test(test_back_ok),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
