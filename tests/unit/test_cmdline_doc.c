/*
 * docs/cmdline.md against the key table (kernel/config_keys.c): every key has a row in the
 * Keys table that shows its default and its range or words as the parser writes them, and a
 * section of its own; every row names a key the parser knows; the number fields of task= show
 * their ranges in the task fields' table.  A key added, dropped or changed in the table without
 * the docs fails here.
 *
 * Run from the repository root (make unit does), or name the file in TICKGUEST_CMDLINE_DOC.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/config_keys.h"

static char *doc;

static int load_doc(void **state)
{
	const char *path = getenv("TICKGUEST_CMDLINE_DOC");
	FILE *f;
	long n;

	(void)state;
	if (!path)
		path = "docs/cmdline.md";
	f = fopen(path, "r");
	if (!f) {
		fprintf(stderr, "cannot open %s (run from the repository root)\n", path);
		return -1;
	}
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	doc = calloc(1, (size_t)n + 1);
	if (!doc || fread(doc, 1, (size_t)n, f) != (size_t)n) {
		fclose(f);
		return -1;
	}
	fclose(f);
	return 0;
}

static int free_doc(void **state)
{
	(void)state;
	free(doc);
	return 0;
}

/* The first len bytes of s into buf as a string, cut to fit its n bytes. */
static char *copy_out(char *buf, size_t n, const char *s, size_t len)
{
	if (len >= n)
		len = n - 1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	return buf;
}

/*
 * The text from heading to the next heading of level three or above, so the Keys table is not
 * taken with the tables of the sections below it.
 */
static char *section(const char *heading, char *buf, size_t n)
{
	const char *s = strstr(doc, heading);
	const char *end;
	size_t len;

	if (!s)
		fail_msg("docs/cmdline.md has no \"%s\"", heading + 1);
	end = strstr(s + strlen(heading), "\n##");
	len = end ? (size_t)(end - s) : strlen(s);
	return copy_out(buf, n, s, len);
}

/* The table row of text that starts with start, or NULL. */
static const char *row(const char *text, const char *start, char *buf, size_t n)
{
	const char *s = text;
	size_t len;

	while ((s = strstr(s, start)) && s != text && s[-1] != '\n')
		s++;
	if (!s)
		return NULL;
	len = strcspn(s, "\n");
	return copy_out(buf, n, s, len);
}

static void expect_in_row(const char *r, const char *name, const char *what, const char *text)
{
	if (!strstr(r, text))
		fail_msg("docs/cmdline.md: the row of %s does not show its %s \"%s\": %s", name, what,
			 text, r);
}

static void expect_range(const char *r, const struct config_key *k)
{
	char buf[128], word[40];
	struct strbuf sb = { buf, sizeof(buf), 0 };
	unsigned i;

	if (k->kind != KIND_WORD) {
		config_key_range(&sb, k);
		expect_in_row(r, k->name, "range", buf);
	}
	for (i = (unsigned)k->min; k->kind == KIND_WORD && i <= k->max; i++) {
		snprintf(word, sizeof(word), "`%s`", k->words[i]);
		expect_in_row(r, k->name, "word", word);
	}
	if (k->kind == KIND_TIME && k->off) {
		snprintf(word, sizeof(word), "`%s`", k->off);
		expect_in_row(r, k->name, "off word", word);
	}
	if (k->kind == KIND_DECIMAL) {
		snprintf(buf, sizeof(buf), "at most %u decimals", k->decimals);
		expect_in_row(r, k->name, "decimals", buf);
	}
}

/*
 * The row of k in table starts with row_fmt filled with k's name, and shows k's range or words,
 * and its default as def_fmt writes it (the Keys table quotes values, the task fields' table has
 * a column of its own for the default).
 */
static void expect_row(const char *table, const char *what, const char *row_fmt,
		       const char *def_fmt, const struct config_key *k)
{
	char start[64], r[512], def[48], shown[64];
	struct strbuf sb = { def, sizeof(def), 0 };

	snprintf(start, sizeof(start), row_fmt, k->name);
	if (!row(table, start, r, sizeof(r)))
		fail_msg("docs/cmdline.md: %s has no row \"%s ...\"", what, start);
	expect_range(r, k);
	if (config_key_default(&sb, k)) {
		snprintf(shown, sizeof(shown), def_fmt, def);
		expect_in_row(r, k->name, "default", shown);
	}
}

/* Both tables of values: the Keys table, and the one of task='s number fields. */
static void test_every_key_has_a_row(void **state)
{
	static char keys[8192], task[16384];
	size_t i;

	(void)state;
	section("\n## Keys", keys, sizeof(keys));
	for (i = 0; i < KEY_COUNT; i++)
		expect_row(keys, "the Keys table", "| `%s` |", "`%s`", &config_keys[i]);
	section("\n### `task=", task, sizeof(task));
	for (i = 0; i < config_ntask_fields; i++)
		expect_row(task, "the task fields' table", "| %s |", "| %s |", &config_task_fields[i]);
}

static void test_every_key_has_a_section(void **state)
{
	char heading[48];
	unsigned i;

	(void)state;
	for (i = 0; i < KEY_COUNT; i++) {
		snprintf(heading, sizeof(heading), "\n### `%s=", config_keys[i].name);
		if (!strstr(doc, heading))
			fail_msg("docs/cmdline.md has no section \"%s...\"", heading + 1);
	}
}

/* A row for a key the parser does not know would document a word that it refuses. */
static void test_every_row_is_a_key(void **state)
{
	static char keys[8192];
	const char *s;
	unsigned i;

	(void)state;
	section("\n## Keys", keys, sizeof(keys));
	for (s = strstr(keys, "\n| `"); s; s = strstr(s + 1, "\n| `")) {
		const char *name = s + 4;
		size_t len = strcspn(name, "`");

		for (i = 0; i < KEY_COUNT; i++) {
			if (strlen(config_keys[i].name) == len &&
			    strncmp(config_keys[i].name, name, len) == 0)
				break;
		}
		if (i == KEY_COUNT)
			fail_msg("docs/cmdline.md: the Keys table has a row for `%.*s`, which is no key",
				 (int)len, name);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_key_has_a_row),
		cmocka_unit_test(test_every_key_has_a_section),
		cmocka_unit_test(test_every_row_is_a_key),
	};

	return cmocka_run_group_tests(tests, load_doc, free_doc);
}
