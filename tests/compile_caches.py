"""What each new app compiles that is the same for every app of a test run, compiled once.

The tests build a new app for every test (tests/conftest.py: ``app``), so no test sees
another's settings, hooks or in-memory state. Building one cost about 80 ms, and its
first pages 20 ms a template more, spent compiling the same things again:

- Werkzeug compiles a URL builder for each of the ~140 routes (Python source, via
  ``ast`` and ``compile``). The builder is a function of the rule's text and parts and
  takes the rule as ``self`` when called, so one compiled builder serves that rule in
  every app: ``memoize_url_builders`` keeps them. A rule with defaults is compiled as
  before (its defaults are baked into the builder).
- Jinja compiles each template on its first use in each app's environment.
  ``TemplateBytecode`` keeps the compiled code, keyed by the template's name, file,
  source (Jinja's checksum) and the environment's compile options, for ``app`` to give
  each new app's environment.

Both only skip compiling: what a test's app routes, renders and answers is unchanged.
"""

import jinja2
from werkzeug.routing.rules import Rule

_BUILDERS = {}


def memoize_url_builders():
    original = Rule._compile_builder
    if getattr(original, "memoized", False):
        return

    def compile_builder(self, append_unknown=True):
        if self.defaults:
            return original(self, append_unknown)
        key = (self.rule, tuple(self._trace), append_unknown)
        builder = _BUILDERS.get(key)
        if builder is None:
            builder = _BUILDERS[key] = original(self, append_unknown)
        return builder

    compile_builder.memoized = True
    Rule._compile_builder = compile_builder


class TemplateBytecode(jinja2.BytecodeCache):
    """Compiled templates in memory, shared by environments configured alike."""

    def __init__(self):
        self._code = {}

    @staticmethod
    def _key(bucket):
        env = bucket.environment
        autoescape = getattr(env.autoescape, "__func__", env.autoescape)
        options = (
            env.block_start_string,
            env.block_end_string,
            env.variable_start_string,
            env.variable_end_string,
            env.comment_start_string,
            env.comment_end_string,
            env.line_statement_prefix,
            env.line_comment_prefix,
            env.trim_blocks,
            env.lstrip_blocks,
            env.newline_sequence,
            env.keep_trailing_newline,
            env.optimized,
            env.is_async,
            autoescape,
            env.finalize,
            tuple(sorted(env.extensions)),
            tuple(sorted(env.filters)),
            tuple(sorted(env.tests)),
        )
        return bucket.key, bucket.checksum, options

    def load_bytecode(self, bucket):
        code = self._code.get(self._key(bucket))
        if code is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket):
        self._code[self._key(bucket)] = bucket.bytecode_to_string()
