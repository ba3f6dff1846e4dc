# Origin: tensorflow/docs site/en/guide/autodiff.ipynb, cell C1tLeeRFE479 ("Took gradients through a stateful object").
import tensorflow as tf

x0 = tf.Variable(3.0)
x1 = tf.Variable(0.0)
with tf.GradientTape() as tape:
    x1.assign_add(x0)
    y = x1**2
print(tape.gradient(y, x0))
