/* The conformance scenario through the C ABI (pglift.h): see README.md.
 *   conformance_c SCENARIO VARIABLES OUTPUT
 * Reads the scenario and the placeholders' values (JSON files), runs the steps on one context, and writes
 * one line per step to OUTPUT: {"step": ID, "result": the result seen through the step's "expect"}.
 * C11 and pglift.h only: the few JSON functions it needs are below (a reader, a writer, equality), and
 * the matchers are those of compare.py's normalise(). */
#define _POSIX_C_SOURCE 200809L
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pglift/pglift.h>

/* A number without a fraction (and small enough to print as an integer). */
static bool integral(double n) { return n > -1e15 && n < 1e15 && n == (double)(long long)n; }

/* ---- JSON values ------------------------------------------------------------------------------- */

typedef enum { J_NULL, J_BOOL, J_NUM, J_STR, J_ARR, J_OBJ } jtype;

typedef struct json {
  jtype t;
  bool b;
  double n;
  char *s;            /* J_STR */
  size_t len;         /* J_ARR, J_OBJ: number of items */
  char **keys;        /* J_OBJ */
  struct json **items;/* J_ARR, J_OBJ */
} json;

static void *xalloc(size_t n) {
  void *p = calloc(1, n ? n : 1);
  if (!p) {
    fputs("out of memory\n", stderr);
    exit(2);
  }
  return p;
}

static char *xstrdup(const char *s) {
  char *d = xalloc(strlen(s) + 1);
  strcpy(d, s);
  return d;
}

static json *jnew(jtype t) {
  json *j = xalloc(sizeof *j);
  j->t = t;
  return j;
}

static json *jstr(const char *s) {
  json *j = jnew(J_STR);
  j->s = xstrdup(s);
  return j;
}

static void jfree(json *j) {
  if (!j) return;
  for (size_t i = 0; i < j->len; i++) {
    if (j->keys) free(j->keys[i]);
    jfree(j->items[i]);
  }
  free(j->keys);
  free(j->items);
  free(j->s);
  free(j);
}

/* Appends an item (and its key, for an object). */
static void jpush(json *j, const char *key, json *item) {
  j->items = realloc(j->items, (j->len + 1) * sizeof *j->items);
  if (!j->items) exit(2);
  if (j->t == J_OBJ) {
    j->keys = realloc(j->keys, (j->len + 1) * sizeof *j->keys);
    if (!j->keys) exit(2);
    j->keys[j->len] = xstrdup(key);
  }
  j->items[j->len++] = item;
}

static json *jget(const json *j, const char *key) {
  if (!j || j->t != J_OBJ) return NULL;
  for (size_t i = 0; i < j->len; i++)
    if (strcmp(j->keys[i], key) == 0) return j->items[i];
  return NULL;
}

static const char *jgetstr(const json *j, const char *key) {
  const json *v = jget(j, key);
  return v && v->t == J_STR ? v->s : NULL;
}

static json *jcopy(const json *j) {
  json *c = jnew(j->t);
  c->b = j->b;
  c->n = j->n;
  if (j->s) c->s = xstrdup(j->s);
  for (size_t i = 0; i < j->len; i++) jpush(c, j->keys ? j->keys[i] : NULL, jcopy(j->items[i]));
  return c;
}

/* JSON equality: numbers by value, objects without order. */
static bool jequal(const json *a, const json *b) {
  if (a->t != b->t) return false;
  switch (a->t) {
    case J_NULL: return true;
    case J_BOOL: return a->b == b->b;
    case J_NUM: return a->n == b->n;
    case J_STR: return strcmp(a->s, b->s) == 0;
    case J_ARR:
      if (a->len != b->len) return false;
      for (size_t i = 0; i < a->len; i++)
        if (!jequal(a->items[i], b->items[i])) return false;
      return true;
    case J_OBJ:
      if (a->len != b->len) return false;
      for (size_t i = 0; i < a->len; i++) {
        const json *other = jget(b, a->keys[i]);
        if (!other || !jequal(a->items[i], other)) return false;
      }
      return true;
  }
  return false;
}

/* -- reader -- */
typedef struct {
  const char *p;
  bool failed;
} reader;

static void ws(reader *r) {
  while (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r') r->p++;
}

static void put_utf8(char **out, size_t *len, size_t *cap, unsigned cp) {
  char buf[4];
  size_t n;
  if (cp < 0x80) buf[0] = (char)cp, n = 1;
  else if (cp < 0x800) buf[0] = (char)(0xC0 | cp >> 6), buf[1] = (char)(0x80 | (cp & 0x3F)), n = 2;
  else if (cp < 0x10000)
    buf[0] = (char)(0xE0 | cp >> 12), buf[1] = (char)(0x80 | ((cp >> 6) & 0x3F)), buf[2] = (char)(0x80 | (cp & 0x3F)), n = 3;
  else
    buf[0] = (char)(0xF0 | cp >> 18), buf[1] = (char)(0x80 | ((cp >> 12) & 0x3F)),
    buf[2] = (char)(0x80 | ((cp >> 6) & 0x3F)), buf[3] = (char)(0x80 | (cp & 0x3F)), n = 4;
  while (*len + n + 1 > *cap) {
    *cap *= 2;
    *out = realloc(*out, *cap);
    if (!*out) exit(2);
  }
  memcpy(*out + *len, buf, n);
  *len += n;
}

static unsigned hex4(reader *r) {
  unsigned v = 0;
  for (int i = 0; i < 4; i++) {
    char c = *r->p++;
    v <<= 4;
    if (c >= '0' && c <= '9') v |= (unsigned)(c - '0');
    else if (c >= 'a' && c <= 'f') v |= (unsigned)(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F') v |= (unsigned)(c - 'A' + 10);
    else {
      r->failed = true;
      return 0;
    }
  }
  return v;
}

static char *read_string(reader *r) {
  size_t len = 0, cap = 16;
  char *out = xalloc(cap);
  r->p++; /* the opening quote */
  while (*r->p && *r->p != '"' && !r->failed) {
    unsigned char c = (unsigned char)*r->p++;
    if (c != '\\') {
      put_utf8(&out, &len, &cap, c); /* a byte of UTF-8 text: copied as is */
      continue;
    }
    char e = *r->p++;
    unsigned cp;
    switch (e) {
      case '"': cp = '"'; break;
      case '\\': cp = '\\'; break;
      case '/': cp = '/'; break;
      case 'b': cp = '\b'; break;
      case 'f': cp = '\f'; break;
      case 'n': cp = '\n'; break;
      case 'r': cp = '\r'; break;
      case 't': cp = '\t'; break;
      case 'u':
        cp = hex4(r);
        if (cp >= 0xD800 && cp < 0xDC00 && r->p[0] == '\\' && r->p[1] == 'u') {
          r->p += 2;
          unsigned low = hex4(r);
          cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
        }
        break;
      default: r->failed = true; cp = 0;
    }
    put_utf8(&out, &len, &cap, cp);
  }
  if (*r->p != '"') r->failed = true;
  else r->p++;
  out[len] = '\0';
  return out;
}

static json *read_value(reader *r) {
  ws(r);
  char c = *r->p;
  if (c == '{' || c == '[') {
    json *j = jnew(c == '{' ? J_OBJ : J_ARR);
    char close = c == '{' ? '}' : ']';
    r->p++;
    ws(r);
    if (*r->p == close) {
      r->p++;
      return j;
    }
    for (;;) {
      char *key = NULL;
      if (j->t == J_OBJ) {
        ws(r);
        if (*r->p != '"') break;
        key = read_string(r);
        ws(r);
        if (*r->p++ != ':') {
          free(key);
          break;
        }
      }
      json *item = read_value(r);
      jpush(j, key, item);
      free(key);
      if (r->failed) return j;
      ws(r);
      if (*r->p == ',') {
        r->p++;
        continue;
      }
      if (*r->p == close) {
        r->p++;
        return j;
      }
      break;
    }
    r->failed = true;
    return j;
  }
  if (c == '"') {
    json *j = jnew(J_STR);
    j->s = read_string(r);
    return j;
  }
  if (strncmp(r->p, "true", 4) == 0 || strncmp(r->p, "false", 5) == 0) {
    json *j = jnew(J_BOOL);
    j->b = c == 't';
    r->p += j->b ? 4 : 5;
    return j;
  }
  if (strncmp(r->p, "null", 4) == 0) {
    r->p += 4;
    return jnew(J_NULL);
  }
  char *end;
  double n = strtod(r->p, &end);
  if (end == r->p) r->failed = true;
  r->p = end;
  json *j = jnew(J_NUM);
  j->n = n;
  return j;
}

static json *jparse(const char *text) {
  reader r = {text, false};
  json *j = read_value(&r);
  ws(&r);
  if (r.failed || *r.p) {
    jfree(j);
    return NULL;
  }
  return j;
}

/* -- writer -- */
static void write_string(FILE *f, const char *s) {
  fputc('"', f);
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\') fprintf(f, "\\%c", c);
    else if (c == '\n') fputs("\\n", f);
    else if (c < 0x20) fprintf(f, "\\u%04x", c);
    else fputc(c, f);
  }
  fputc('"', f);
}

static void jwrite(FILE *f, const json *j) {
  switch (j->t) {
    case J_NULL: fputs("null", f); break;
    case J_BOOL: fputs(j->b ? "true" : "false", f); break;
    case J_NUM:
      if (integral(j->n)) fprintf(f, "%.0f", j->n);
      else fprintf(f, "%.17g", j->n);
      break;
    case J_STR: write_string(f, j->s); break;
    case J_ARR:
    case J_OBJ:
      fputc(j->t == J_ARR ? '[' : '{', f);
      for (size_t i = 0; i < j->len; i++) {
        if (i) fputs(", ", f);
        if (j->t == J_OBJ) {
          write_string(f, j->keys[i]);
          fputs(": ", f);
        }
        jwrite(f, j->items[i]);
      }
      fputc(j->t == J_ARR ? ']' : '}', f);
      break;
  }
}

static char *jtext(const json *j) {
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  if (!f) exit(2);
  jwrite(f, j);
  fclose(f);
  return buf;
}

static json *jread_file(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    perror(path);
    exit(2);
  }
  char *buf = NULL;
  size_t len = 0, cap = 0, n;
  char chunk[4096];
  while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
    if (len + n + 1 > cap) {
      cap = 2 * (len + n + 1);
      buf = realloc(buf, cap);
      if (!buf) exit(2);
    }
    memcpy(buf + len, chunk, n);
    len += n;
  }
  fclose(f);
  if (!buf) buf = xstrdup("");
  buf[len] = '\0';
  json *j = jparse(buf);
  free(buf);
  if (!j) {
    fprintf(stderr, "%s: invalid JSON\n", path);
    exit(2);
  }
  return j;
}

/* ---- placeholders and matchers (compare.py's substitute and normalise) --------------------------- */

/* "${NAME}" at s: the length of the whole placeholder, NAME copied to name; 0 when s is none. */
static size_t placeholder_at(const char *s, char *name, size_t cap) {
  if (s[0] != '$' || s[1] != '{') return 0;
  size_t i = 2;
  while ((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_') i++;
  if (s[i] != '}' || i == 2 || i - 2 >= cap) return 0;
  memcpy(name, s + 2, i - 2);
  name[i - 2] = '\0';
  return i + 1;
}

static const json *variable(const json *vars, const char *name) {
  const json *v = jget(vars, name);
  if (!v) {
    fprintf(stderr, "no value for the placeholder ${%s}\n", name);
    exit(2);
  }
  return v;
}

static json *jsubst(const json *j, const json *vars) {
  if (j->t == J_STR) {
    char name[64];
    size_t n = placeholder_at(j->s, name, sizeof name);
    if (n && j->s[n] == '\0') return jcopy(variable(vars, name));
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) exit(2);
    for (const char *s = j->s; *s;) {
      if ((n = placeholder_at(s, name, sizeof name))) {
        const json *v = variable(vars, name);
        if (v->t == J_STR) fputs(v->s, f);
        else jwrite(f, v);
        s += n;
      } else {
        fputc(*s++, f);
      }
    }
    fclose(f);
    json *out = jstr(buf);
    free(buf);
    return out;
  }
  json *c = jnew(j->t);
  c->b = j->b;
  c->n = j->n;
  for (size_t i = 0; i < j->len; i++) jpush(c, j->keys ? j->keys[i] : NULL, jsubst(j->items[i], vars));
  return c;
}

static json *normalise(const json *actual, const json *pattern, const json *vars);

static bool matches(const json *actual, const json *pattern, const json *vars) {
  json *n = normalise(actual, pattern, vars);
  bool ok = jequal(n, pattern);
  jfree(n);
  return ok;
}

/* `actual` seen through `pattern`: the pattern where it matches, the actual value elsewhere. */
static json *normalise(const json *actual, const json *pattern, const json *vars) {
  if (pattern->t == J_STR) {
    const char *p = pattern->s;
    bool ok;
    if (strcmp(p, "<any>") == 0) ok = true;
    else if (strcmp(p, "<int>") == 0) ok = actual->t == J_NUM && integral(actual->n);
    else if (strcmp(p, "<string>") == 0) ok = actual->t == J_STR;
    else if (strcmp(p, "<bool>") == 0) ok = actual->t == J_BOOL;
    else if (strstr(p, "${")) {
      json *expected = jsubst(pattern, vars);
      ok = jequal(actual, expected);
      jfree(expected);
    } else ok = false;
    return jcopy(ok ? pattern : actual);
  }
  if (pattern->t == J_OBJ) {
    if (pattern->len == 1 && strcmp(pattern->keys[0], "<one_of>") == 0) {
      const json *choices = pattern->items[0];
      for (size_t i = 0; i < choices->len; i++)
        if (jequal(actual, choices->items[i])) return jcopy(pattern);
      return jcopy(actual);
    }
    if (pattern->len == 1 && strcmp(pattern->keys[0], "<unordered>") == 0) {
      const json *items = pattern->items[0];
      if (actual->t != J_ARR || actual->len != items->len) return jcopy(actual);
      bool *used = xalloc(actual->len * sizeof *used);
      bool all = true;
      for (size_t k = 0; k < items->len && all; k++) {
        bool found = false;
        for (size_t i = 0; i < actual->len && !found; i++)
          if (!used[i] && matches(actual->items[i], items->items[k], vars)) used[i] = found = true;
        all = found;
      }
      free(used);
      return jcopy(all ? pattern : actual);
    }
    if (actual->t != J_OBJ) return jcopy(actual);
    json *out = jnew(J_OBJ);
    for (size_t i = 0; i < pattern->len; i++) {
      const char *key = pattern->keys[i];
      const json *sub = pattern->items[i], *value = jget(actual, key);
      if (sub->t == J_STR && strcmp(sub->s, "<absent>") == 0) jpush(out, key, jcopy(value ? value : sub));
      else if (value) jpush(out, key, normalise(value, sub, vars));
      else jpush(out, key, jstr("<missing>"));
    }
    return out;
  }
  if (pattern->t == J_ARR) {
    if (actual->t != J_ARR || actual->len != pattern->len) return jcopy(actual);
    json *out = jnew(J_ARR);
    for (size_t i = 0; i < pattern->len; i++) jpush(out, NULL, normalise(actual->items[i], pattern->items[i], vars));
    return out;
  }
  return jcopy(actual);
}

/* ---- the steps ----------------------------------------------------------------------------------- */

/* The result of a call: the parsed JSON it returned (J_NULL when none), or {"error": status name}. */
static json *outcome(int status, pglift_error *err, char *out_json, bool raw_string, const char *step) {
  json *result;
  if (status != PGLIFT_OK) {
    fprintf(stderr, "step %s: %s: %s\n", step, pglift_status_name(status), pglift_error_message(err));
    result = jnew(J_OBJ);
    jpush(result, "error", jstr(pglift_status_name(status)));
    if (*pglift_error_field(err)) jpush(result, "field", jstr(pglift_error_field(err)));
  } else if (!out_json) {
    result = jnew(J_NULL);
  } else if (raw_string) {
    result = jstr(out_json);
  } else if (!(result = jparse(out_json))) {
    fprintf(stderr, "step %s: the library returned invalid JSON: %s\n", step, out_json);
    result = jstr("<invalid JSON>");
  }
  pglift_free(out_json);
  pglift_error_free(err);
  return result;
}

static json *run_step(pglift_ctx *ctx, const json *step) {
  const char *op = jgetstr(step, "op"), *instance = jgetstr(step, "instance"), *id = jgetstr(step, "id");
  const json *remove_cluster = jget(step, "remove_cluster");
  pglift_error *err = NULL;
  char *out = NULL;
  int status;
  bool raw = false;
  if (!op) op = "";
  if (strcmp(op, "create") == 0) {
    char *spec = jtext(jget(step, "spec"));
    status = pglift_instance_create(ctx, spec, strlen(spec), PGLIFT_CREATE_DEFAULT, &out, &err);
    free(spec);
  } else if (strcmp(op, "get") == 0) {
    status = pglift_instance_get(ctx, instance, &out, &err);
  } else if (strcmp(op, "status") == 0) {
    status = pglift_instance_status(ctx, instance, &out, &err);
  } else if (strcmp(op, "list") == 0) {
    status = pglift_instance_list(ctx, NULL, &out, &err);
  } else if (strcmp(op, "configure") == 0) {
    char *changes = jtext(jget(step, "changes"));
    status = pglift_instance_configure(ctx, instance, changes, strlen(changes), &out, &err);
    free(changes);
  } else if (strcmp(op, "start") == 0) {
    status = pglift_instance_start(ctx, instance, &err);
  } else if (strcmp(op, "stop") == 0) {
    status = pglift_instance_stop(ctx, instance, PGLIFT_STOP_FAST, &err);
  } else if (strcmp(op, "drop") == 0) {
    uint32_t flags = remove_cluster && remove_cluster->t == J_BOOL && remove_cluster->b ? PGLIFT_DROP_REMOVE_CLUSTER
                                                                                        : PGLIFT_DROP_DEFAULT;
    status = pglift_instance_drop_with(ctx, instance, flags, &err);
  } else if (strcmp(op, "switchover") == 0) {
    status = pglift_patroni_switchover(ctx, instance, jgetstr(step, "candidate"), NULL, &out, &err);
  } else if (strcmp(op, "pause") == 0 || strcmp(op, "resume") == 0) {
    status = pglift_patroni_pause(ctx, instance, strcmp(op, "pause") == 0, &err);
  } else if (strcmp(op, "patroni_log_file") == 0) {
    status = pglift_patroni_log_file(ctx, instance, &out, &err);
    raw = true;
  } else {
    fprintf(stderr, "step %s: unknown op '%s'\n", id ? id : "?", op);
    exit(2);
  }
  return outcome(status, err, out, raw, id ? id : "?");
}

int main(int argc, char **argv) {
  if (argc != 4) {
    fputs("usage: conformance_c SCENARIO VARIABLES OUTPUT\n", stderr);
    return 2;
  }
  json *scenario = jread_file(argv[1]), *vars = jread_file(argv[2]);
  const json *steps = jget(scenario, "steps");
  FILE *out = NULL;
  if (!steps || steps->t != J_ARR || vars->t != J_OBJ) {
    fputs("the scenario has no steps, or the variables are no object\n", stderr);
  } else if (!(out = fopen(argv[3], "w"))) {
    perror(argv[3]);
  }
  if (!out) {
    jfree(vars);
    jfree(scenario);
    return 2;
  }

  /* First line: the matchers applied to the scenario's cases (compare.py checks them). */
  const json *cases = jget(scenario, "matcher_cases"), *case_vars = jget(scenario, "matcher_variables");
  if (cases && cases->t == J_ARR && case_vars) {
    json *line = jnew(J_OBJ), *normalised = jnew(J_ARR);
    for (size_t i = 0; i < cases->len; i++) {
      const json *actual = jget(cases->items[i], "actual"), *pattern = jget(cases->items[i], "pattern");
      jpush(normalised, NULL, actual && pattern ? normalise(actual, pattern, case_vars) : jstr("<bad case>"));
    }
    jpush(line, "step", jstr("matchers"));
    jpush(line, "result", normalised);
    jwrite(out, line);
    fputc('\n', out);
    jfree(line);
  }

  json *settings = jsubst(jget(scenario, "settings"), vars);
  char *settings_text = jtext(settings);
  pglift_settings *s = NULL;
  pglift_ctx *ctx = NULL;
  pglift_error *err = NULL;
  int status = pglift_settings_from_json(settings_text, strlen(settings_text), &s, &err);
  if (status == PGLIFT_OK) status = pglift_ctx_new(s, &ctx, &err);
  pglift_settings_free(s);
  free(settings_text);
  jfree(settings);
  if (status != PGLIFT_OK) {
    fprintf(stderr, "context: %s\n", pglift_error_message(err));
    pglift_error_free(err);
    fclose(out);
    jfree(vars);
    jfree(scenario);
    return 1;
  }

  for (size_t i = 0; i < steps->len; i++) {
    const json *step = steps->items[i], *expect = jget(step, "expect");
    json *args = jsubst(step, vars); /* "expect" is substituted too, unused: the matchers need it as written */
    json *result = run_step(ctx, args);
    json *normalised = normalise(result, expect ? expect : result, vars);
    json *line = jnew(J_OBJ);
    jpush(line, "step", jstr(jgetstr(step, "id") ? jgetstr(step, "id") : "?"));
    jpush(line, "result", normalised);
    jwrite(out, line);
    fputc('\n', out);
    fflush(out);
    jfree(line);
    jfree(result);
    jfree(args);
  }

  pglift_ctx_free(ctx);
  fclose(out);
  jfree(vars);
  jfree(scenario);
  return 0;
}
