# Origin: tensorflow/docs site/en/guide/autodiff.ipynb, cells vacZ3-Ws5VdV, luOtK1Da_BR0, aYbWRFPZqk4U (gradients of a tensor, shapes).
# Changes: tf.random.normal replaced by fixed values (TF's random stream cannot be reproduced).
import tensorflow as tf

w = tf.Variable([[0.5, -1.0], [0.25, 2.0], [-0.75, 1.5]], name="w")
b = tf.Variable(tf.zeros(2, dtype=tf.float32), name="b")
x = [[1.0, 2.0, 3.0]]
with tf.GradientTape(persistent=True) as tape:
    y = x @ w + b
    loss = tf.reduce_mean(y**2)
[dl_dw, dl_db] = tape.gradient(loss, [w, b])
print(w.shape)
print(dl_dw.shape)
print(dl_dw)
