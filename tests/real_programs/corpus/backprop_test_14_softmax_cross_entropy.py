# Origin: tensorflow/tensorflow tensorflow/python/eager/backprop_test.py, testGradientNone + testSecondGrad (softmax_cross_entropy_with_logits, first and
# second order).
# Changes: backprop.gradients_function written as tapes; asserts become prints.
import tensorflow as tf

logits = tf.constant([[0.0, 0.0]])
labels = tf.constant([[1.0, 0.0]])
with tf.GradientTape() as t:
    t.watch(logits)
    loss = tf.reduce_mean(
        tf.nn.softmax_cross_entropy_with_logits(logits=logits, labels=labels), tf.constant([0])
    )
print(t.gradient(loss, logits).numpy())

f = tf.constant([[0.1]])
with tf.GradientTape() as outer:
    outer.watch(f)
    with tf.GradientTape() as inner:
        inner.watch(f)
        first = tf.reduce_sum(
            tf.nn.softmax_cross_entropy_with_logits(labels=tf.constant([[0.0]]), logits=f),
            tf.constant([0]),
        )
    second = tf.reduce_sum(inner.gradient(first, f), tf.constant([0]))
print(outer.gradient(second, f))
