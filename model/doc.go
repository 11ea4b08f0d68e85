// Package model will hold the 3D medical vision-language model: config, the
// forward pass written once against an Ops interface, its CPU reference and
// GPU backends, the KV cache, TGH-MoE routing, generation and the tokenizer
// (issue #4). It never reads files or the network: it is handed weights and
// token ids.
package model
