# Origin: tensorflow/docs site/en/guide/advanced_autodiff.ipynb, cells BJ0HdMvte0VZ, 6ApAoMNFfNz6, rF1jrAJsfYW_ ("Multiple tapes").
# Changes: the displayed values are printed.
import tensorflow as tf

x0 = tf.constant(0.0)
x1 = tf.constant(0.0)
with tf.GradientTape() as tape0, tf.GradientTape() as tape1:
    tape0.watch(x0)
    tape1.watch(x1)
    y0 = tf.math.sin(x0)
    y1 = tf.nn.sigmoid(x1)
    y = y0 + y1
    ys = tf.reduce_sum(y)
print(tape0.gradient(ys, x0).numpy())
print(tape1.gradient(ys, x1).numpy())
