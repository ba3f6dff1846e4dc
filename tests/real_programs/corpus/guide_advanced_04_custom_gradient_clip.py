# Origin: tensorflow/docs site/en/guide/advanced_autodiff.ipynb, cell Mjj01w4NYtwd (custom_gradient that clips the gradient with tf.clip_by_norm).
import tensorflow as tf


@tf.custom_gradient
def clip_gradients(y):
    def backward(dy):
        return tf.clip_by_norm(dy, 0.5)

    return y, backward


v = tf.Variable(2.0)
with tf.GradientTape() as t:
    output = clip_gradients(v * v)
print(t.gradient(output, v))
