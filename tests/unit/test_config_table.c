/*
 * Host unit tests that walk the key table (kernel/config_keys.c): every key, whatever its kind,
 * takes its limits and words, refuses what lies past them, refuses an empty value and a second
 * word, and words each refusal with its own rule in a message that fits the kernel's buffer.
 * A key added to the table is tested here without a line of its own.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "kernel/config_keys.h"
#include "tests/unit/config_expect.h"

static const struct config_key *key(unsigned i)
{
	return &config_keys[i];
}

static uint64_t field_value(const struct config *c, const struct config_key *k)
{
	const char *field = (const char *)c + k->offset;
	uint64_t v64;
	uint32_t v32;

	if (k->size == sizeof(v64)) {
		memcpy(&v64, field, sizeof(v64));
		return v64;
	}
	memcpy(&v32, field, sizeof(v32));
	return v32;
}

/* "name=value", the value written as the table writes it. */
static const char *key_word(char *buf, size_t n, const struct config_key *k, uint64_t v)
{
	struct strbuf sb = { buf, n, 0 };

	sb_printf(&sb, "%s=", k->name);
	config_key_value(&sb, k, v);
	return buf;
}

static const char *rule_of(const struct config_key *k)
{
	static char buf[256];
	struct strbuf sb = { buf, sizeof(buf), 0 };

	config_key_rule(&sb, k);
	return buf;
}

/* The refusal of word, alone on the command line, ends with k's rule and fits the kernel. */
static void expect_refused(const struct config_key *k, const char *word, const char *what)
{
	size_t len, rule_len = strlen(rule_of(k));

	BAD(word, what);
	len = strlen(err);
	if (len >= CONFIG_ERR_LEN)
		fail_msg("%zu characters, more than the kernel's %d: %s", len, CONFIG_ERR_LEN - 1, err);
	assert_true(len > rule_len + 2);
	assert_memory_equal(err + len - rule_len - 2, "; ", 2);
	assert_string_equal(err + len - rule_len, rule_of(k));
}

/* Accepted, and stored as v; timer=hpet lets hz= take its whole range. */
static void expect_stored(const struct config_key *k, uint64_t v)
{
	char word[64], line[96];

	key_word(word, sizeof(word), k, v);
	snprintf(line, sizeof(line), "%s%s", k == key(KEY_TIMER) ? "" : "timer=hpet ", word);
	expect_ok(line);
	if (field_value(&cfg, k) != v)
		fail_msg("%s stored %llu", line, (unsigned long long)field_value(&cfg, k));
}

static void test_table(void **state)
{
	unsigned i, j;

	(void)state;
	memset(&cfg, 0xa5, sizeof(cfg));
	config_defaults(&cfg);
	for (i = 0; i < KEY_COUNT; i++) {
		const struct config_key *k = key(i);

		assert_non_null(k->name);
		assert_true(k->name[0] != '\0' && !strchr(k->name, '='));
		assert_true(k->help && k->help[0]);
		for (j = 0; j < i; j++)
			assert_string_not_equal(k->name, key(j)->name);
		if (k->kind == KIND_TASK)
			continue;
		/* config_store() writes 4 or 8 bytes, and a 4-byte field must hold every value */
		assert_true(k->size == 4 || k->size == 8);
		assert_true(k->offset + k->size <= sizeof(struct config));
		assert_true(k->min <= k->max);
		assert_true(k->size == 8 || k->max <= UINT32_MAX);
		if (k->kind == KIND_WORD)
			assert_true(k->words && k->def <= k->max);
		/* 0 is the off word's, so no value may be 0 too */
		if (k->off)
			assert_true(k->min > 0);
		assert_int_equal(field_value(&cfg, k), k->def);
	}
}

static void test_table_accepts(void **state)
{
	(void)state;
	for (const struct config_key *k = config_keys; k < config_keys + KEY_COUNT; k++) {
		switch (k->kind) {
		case KIND_WORD:
			for (unsigned w = (unsigned)k->min; w <= k->max; w++)
				expect_stored(k, w);
			break;
		case KIND_TIME:
			if (k->off)
				expect_stored(k, 0);
			/* fall through */
		case KIND_UINT:
		case KIND_DECIMAL:
			expect_stored(k, k->min);
			expect_stored(k, k->max);
			break;
		case KIND_TASK:
			break;
		}
	}
}

static void test_table_refuses(void **state)
{
	char word[64];

	(void)state;
	for (const struct config_key *k = config_keys; k < config_keys + KEY_COUNT; k++) {
		snprintf(word, sizeof(word), "%s=", k->name);
		expect_refused(k, word, "empty value");
		switch (k->kind) {
		case KIND_TASK:         /* its values are test_config_task.c's */
			break;
		case KIND_WORD:
			for (unsigned w = 0; w < k->min; w++)
				expect_refused(k, key_word(word, sizeof(word), k, w), "is unknown");
			snprintf(word, sizeof(word), "%s=%s_", k->name, k->words[k->max]);
			expect_refused(k, word, "is unknown");
			break;
		case KIND_UINT:
		case KIND_TIME:
		case KIND_DECIMAL:
			expect_refused(k, key_word(word, sizeof(word), k, k->max + 1), "is out of range");
			if (k->min > 0)
				expect_refused(k, key_word(word, sizeof(word), k, k->min - 1),
					       "is out of range");
			snprintf(word, sizeof(word), "%s=x", k->name);
			expect_refused(k, word, "'x' is not a");
			/* the longest number a value can hold, and so the longest such message */
			snprintf(word, sizeof(word), "%s=18446744073709551615%s", k->name,
				 k->kind == KIND_TIME ? "us" : "");
			expect_refused(k, word, "is out of range");
			break;
		}
	}
}

/* Every key but the ones that may repeat: a second word is refused, whatever its value. */
static void test_table_twice(void **state)
{
	char first[64], second[64], line[160], why[192];

	(void)state;
	for (const struct config_key *k = config_keys; k < config_keys + KEY_COUNT; k++) {
		if (k->flags & KEY_REPEATS)
			continue;
		key_word(first, sizeof(first), k, k->min);
		key_word(second, sizeof(second), k, k->max);
		snprintf(line, sizeof(line), "%s %s", first, second);
		snprintf(why, sizeof(why), "%s: %s is already set; only task may be given more than once",
			 second, k->name);
		expect_exact(line, why);
	}
	expect_ok("task=a:spin task=b:spin task=c:spin");
}

/* The keys that need an accounting run: only their neutral value goes with suite=devices. */
static void test_table_accounting(void **state)
{
	char word[64], line[96];

	(void)state;
	for (const struct config_key *k = config_keys; k < config_keys + KEY_COUNT; k++) {
		uint64_t other = k->neutral == k->max ? k->min : k->max;

		if (!(k->flags & KEY_ACCOUNTING))
			continue;
		snprintf(line, sizeof(line), "suite=devices %s", key_word(word, sizeof(word), k, k->neutral));
		expect_ok(line);
		snprintf(line, sizeof(line), "%s suite=devices", key_word(word, sizeof(word), k, other));
		BAD_AT(line, word, "suite=devices runs no workload");
		snprintf(line, sizeof(line), "suite=accounting %s", word);
		expect_ok(line);
	}
}

/* The list of known keys is the table's. */
static void test_table_unknown_key(void **state)
{
	unsigned i;

	(void)state;
	BAD("bogus=1", "unknown key 'bogus'; known keys: ");
	for (i = 0; i < KEY_COUNT; i++)
		assert_contains(err, key(i)->name);
	assert_true(strlen(err) < CONFIG_ERR_LEN);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_table_accepts),
		cmocka_unit_test(test_table_refuses),
		cmocka_unit_test(test_table_twice),
		cmocka_unit_test(test_table_accounting),
		cmocka_unit_test(test_table_unknown_key),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
