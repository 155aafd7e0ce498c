"""SQL text generation: the one literal-escaping function and statement builders."""
