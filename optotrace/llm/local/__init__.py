"""The embedded model's engine: one llama.cpp context decoding many sequences at once.

model.py loads the weights and the multi-sequence context; request.py turns a chat request into prompt tokens
and a sampler; sequence.py follows one sequence while it decodes; prefix.py finds a shared prompt prefix;
scheduler.py is the thread that batches whatever requests are waiting and hands each reply back.
"""
