"""Realistic chat templates (benign) and sandbox-escape templates (defanged payloads)."""

from __future__ import annotations

LLAMA3 = (
    "{% set loop_messages = messages %}{% for message in loop_messages %}"
    "{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n'+ message['content'] | trim + '<|eot_id|>' %}"
    "{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{% endif %}"
)
CHATML = (
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)
MISTRAL = (
    "{{ bos_token }}{% for message in messages %}"
    "{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
    "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}"
    "{% if message['role'] == 'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}"
    "{% elif message['role'] == 'assistant' %}{{ message['content'] + eos_token}}"
    "{% else %}{{ raise_exception('Only user and assistant roles are supported!') }}{% endif %}{% endfor %}"
)
GEMMA = (
    "{{ bos_token }}{% if messages[0]['role'] == 'system' %}{{ raise_exception('System role not supported') }}{% endif %}"
    "{% for message in messages %}{% if (message['role'] == 'assistant') %}{% set role = 'model' %}"
    "{% else %}{% set role = message['role'] %}{% endif %}"
    "{{ '<start_of_turn>' + role + '\\n' + message['content'] | trim + '<end_of_turn>\\n' }}{% endfor %}"
    "{% if add_generation_prompt %}{{'<start_of_turn>model\\n'}}{% endif %}"
)
QWEN_TOOLS = (
    "{%- if tools %}{{- '<|im_start|>system\\n' }}{%- for tool in tools %}{{- '\\n' }}{{- tool | tojson }}{%- endfor %}{%- endif %}\n"
    "{%- set ns = namespace(multi_step_tool=true, last_query_index=messages|length - 1) %}\n"
    "{%- for message in messages[::-1] %}{%- set index = (messages|length - 1) - loop.index0 %}\n"
    "{%- if ns.multi_step_tool and message.role == 'user' and not(message.content.startswith('<tool_response>')) %}"
    "{%- set ns.multi_step_tool = false %}{%- set ns.last_query_index = index %}{%- endif %}{%- endfor %}\n"
    "{%- for message in messages %}{{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>\\n' }}"
    "{% generation %}{{ message.content }}{% endgeneration %}{%- endfor %}\n"
    "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{{ strftime_now('%d %b %Y') }}{%- endif %}"
)
BENIGN = {"llama3": LLAMA3, "chatml": CHATML, "mistral": MISTRAL, "gemma": GEMMA, "qwen-tools": QWEN_TOOLS}

SSTI = {
    "self-globals": "{{ self.__init__.__globals__.__builtins__.__import__('os').popen('echo malhug').read() }}",
    "mro-subclasses": "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "attr-concat": "{{ lipsum|attr('__glo' ~ 'bals__') }}",
    "getitem-plus": "{{ cycler['__in' + 'it__'] }}",
    "set-reverse": "{% set x = '__ssalc__'|reverse %}{{ ''|attr(x) }}",
    "joiner-os": CHATML + "\n{{ joiner.__init__.__globals__.os.popen('echo malhug').read() }}",
    "join-list": "{{ namespace[['__in', 'it__']|join]['__glo' + 'bals__'] }}",
    "map-attribute": "{{ messages|map(attribute='__class__')|list }}",
    "private-attr": "{{ self._TemplateReference__context.cycler }}",
    "mul": "{{ ''|attr('_' * 2 + 'class' + '_' * 2) }}",
}
