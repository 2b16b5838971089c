"""Developer tools: the local stack runner, the call simulator, conversation
replay and every benchmark. They may import anything; nothing in a service
imports them, and the images leave them out."""
