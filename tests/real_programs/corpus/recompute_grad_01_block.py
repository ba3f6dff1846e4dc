# Origin: tensorflow/tensorflow tensorflow/python/ops/custom_gradient.py, recompute_grad docstring (gradients through a recomputed block).
# Changes: the Keras model is replaced by a block over two variables; a counter shows the forward
# function running again during the backward pass.
import tensorflow as tf

w1 = tf.Variable([[0.5, -0.25], [1.0, 0.75]])
w2 = tf.Variable([[1.5], [-0.5]])
calls = []


def block(x):
    calls.append("running")
    return tf.tanh(x @ w1) @ w2


block_recompute = tf.recompute_grad(block)
x = tf.constant([[1.0, 2.0]])
with tf.GradientTape() as tape:
    r = block_recompute(x)
grads = tape.gradient(r, [w1, w2])
print(r.numpy())
print([g.numpy().round(5).tolist() for g in grads])
print(calls)
